"""numbers-async: an asyncio client for the phone-number search API.

Import everything from here; the generated low-level package stays behind this facade.
"""

from numbers_api.models import AvailableNumber
from numbers_api.types import UNSET, Unset

from ._client import NumbersClient
from ._filters import SearchFilters
from ._json import to_json_dict
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
    RateLimitError,
    ResponseValidationError,
    UnexpectedStatusError,
)

__all__ = [
    "UNSET",
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
    "RateLimitError",
    "ResponseValidationError",
    "RetryPolicy",
    "SearchFilters",
    "SearchResult",
    "SearchStream",
    "UnexpectedStatusError",
    "Unset",
    "__version__",
    "to_json_dict",
]
