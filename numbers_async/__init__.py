"""numbers-async: an asyncio client for the phone-number search API.

Import everything from here; the generated low-level package stays behind this facade.
"""

from numbers_api.models import AvailableNumber

from ._client import NumbersClient
from ._filters import SearchFilters
from ._results import SearchResult, SearchStream
from ._retry import RetryPolicy
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    InternalServerError,
    InvalidRequestError,
    NumbersError,
    PaymentRequiredError,
    ProviderError,
    ResponseValidationError,
    UnexpectedStatusError,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AvailableNumber",
    "BadRequestError",
    "ClientClosedError",
    "InternalServerError",
    "InvalidRequestError",
    "NumbersClient",
    "NumbersError",
    "PaymentRequiredError",
    "ProviderError",
    "ResponseValidationError",
    "RetryPolicy",
    "SearchFilters",
    "SearchResult",
    "SearchStream",
    "UnexpectedStatusError",
    "__version__",
]
