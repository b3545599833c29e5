"""The ``numbers-async`` command: search available numbers, or serve the sandbox API.

    numbers-async search US --features sms,voice --limit 120 --sandbox
    numbers-async sandbox --port 8080

Exit status (``EXIT_STATUSES`` in ``_args``, shown by ``--help``): 0 success, 1 the API
answered with an error, could not be reached or passed ``--deadline`` (or the results could
not be written), 2 bad usage or invalid
input (the API's 400 included), 130 interrupted. Results go to stdout, everything else to
stderr; the API key is never printed. The core needs nothing beyond the library; ``--sandbox``
and ``sandbox`` need the ``cli`` (or ``sandbox``) extra.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from numbers_async._log import ENV_HANDLER

from ._args import API_ERROR, INTERRUPTED, SUCCESS, USAGE_ERROR, build_parser
from ._extras import MissingExtraError
from ._formats import OutputError, PrintableFormatter
from ._interrupt import listen_again

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    if sys.stderr is None:  # started with stderr closed (`2>&-`): its messages are dropped,
        # the exit statuses still hold (writing them to None failed with status 1)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (open for the process)
    listen_again()  # a search this process ran before was interrupted
    args = build_parser().parse_args(argv)
    _escape_log()
    if sys.stdout is None:  # started with stdout closed (`>&-`)
        print("numbers-async: error: stdout is closed", file=sys.stderr)
        return API_ERROR
    try:
        if args.command == "sandbox":
            from ._serve import run_sandbox

            return run_sandbox(args)
        from ._search import run_search

        return run_search(args)
    except MissingExtraError as error:
        print(f"numbers-async: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("numbers-async: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader stopped reading (`| head`): not an error. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again.
        _discard_stdout()
        return SUCCESS
    except OutputError as error:  # a full disk, a closed descriptor
        print(f"numbers-async: error: cannot write the results: {error}", file=sys.stderr)
        _discard_stdout()
        return API_ERROR
    except OSError as error:  # a file it needs (SSL_CERT_FILE naming none, say)
        print(f"numbers-async: error: {error}", file=sys.stderr)
        return API_ERROR


def _escape_log() -> None:
    """NUMBERS_LOG's records escaped as error reports are: the server's text must not drive
    the terminal in a retry line either."""
    handler = ENV_HANDLER
    if handler is not None and not isinstance(handler.formatter, PrintableFormatter):
        handler.setFormatter(PrintableFormatter(handler.formatter))


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError):  # no descriptor: a replaced sys.stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
