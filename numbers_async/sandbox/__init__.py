"""An offline sandbox of the phone-number search API, for demos and tests.

``create_app()`` returns an ASGI application implementing ``GET /numbers/available`` as
spec/openapi.yaml describes it, with a deterministic inventory of valid numbers for AU, CA,
DE, FR, GB and US, and faults on demand. Use it in-process::

    app = create_app(seed=1, fail_rate=0.1)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")

or serve it on loopback with ``numbers-async sandbox``. Needs the ``sandbox`` extra
(``pip install 'numbers-async[sandbox]'``); ``import numbers_async`` never imports it.
"""

try:
    import phonenumbers  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised through the CLI's subprocess test
    raise ImportError(
        "numbers_async.sandbox needs the sandbox extra: pip install 'numbers-async[sandbox]'"
    ) from error

from ._app import DEFAULT_API_KEY, SEARCH_PATH, RecordedRequest, SandboxApp, create_app
from ._faults import Faults
from ._inventory import FEATURES, SUPPORTED_COUNTRIES

__all__ = [
    "DEFAULT_API_KEY",
    "FEATURES",
    "SEARCH_PATH",
    "SUPPORTED_COUNTRIES",
    "Faults",
    "RecordedRequest",
    "SandboxApp",
    "create_app",
]
