"""An offline sandbox of the phone-number search API, for demos and tests.

``create_app()`` returns an ASGI application implementing ``GET /numbers/available`` as
spec/openapi.yaml describes it, with a deterministic inventory of valid numbers for AU, CA,
DE, FR, GB and US, and faults on demand. ``sandbox_client(app)`` is a ``NumbersClient``
searching it in-process::

    app = create_app(seed=1, fail_rate=0.1)
    async with sandbox_client(app) as client:
        numbers = await client.search("US", limit=120)

Serve it on loopback with ``numbers-async sandbox``; pytest users get both as fixtures from
the ``numbers_async.testing`` plugin. Needs the ``sandbox`` extra
(``pip install 'numbers-async[sandbox]'``); ``import numbers_async`` never imports it.
"""

try:
    import phonenumbers  # noqa: F401
except ImportError as error:
    raise ImportError(
        "numbers_async.sandbox needs the sandbox extra: pip install 'numbers-async[sandbox]'",
        name=error.name,
    ) from error

from ._app import DEFAULT_API_KEY, SEARCH_PATH, RecordedRequest, SandboxApp, create_app
from ._connect import SANDBOX_BASE_URL, SandboxClientOptions, sandbox_client
from ._faults import Faults
from ._inventory import FEATURES, SUPPORTED_COUNTRIES

__all__ = [
    "DEFAULT_API_KEY",
    "FEATURES",
    "SANDBOX_BASE_URL",
    "SEARCH_PATH",
    "SUPPORTED_COUNTRIES",
    "Faults",
    "RecordedRequest",
    "SandboxApp",
    "SandboxClientOptions",
    "create_app",
    "sandbox_client",
]
