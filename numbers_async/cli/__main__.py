"""``python -m numbers_async.cli``: the same as the ``numbers-async`` command."""

from . import main

raise SystemExit(main())
