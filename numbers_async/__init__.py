"""numbers-async: an asyncio client for the phone-number search API.

Import everything from here; the generated low-level package stays behind this facade.
"""

from numbers_api.models import AvailableNumber
from numbers_api.types import UNSET, Unset

from ._budget import RetryBudget
from ._client import ClientOptions, NumbersClient
from ._filters import SearchFilters
from ._json import to_json_dict
from ._pagination import StopReason
from ._results import SearchResult, SearchStream
from ._retry import RetryPolicy
from ._timeouts import Timeouts
from ._transports import Transport
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CertificateVerificationError,
    ClientClosedError,
    InternalServerError,
    InvalidRequestError,
    NumbersError,
    PaymentRequiredError,
    ProviderError,
    ProxyError,
    RateLimitError,
    ResponseHeaders,
    ResponseValidationError,
    UnexpectedStatusError,
    UnknownArgumentError,
)
from .hooks import AttemptInfo, Hooks, RetryInfo, SearchInfo

__all__ = [
    "UNSET",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AttemptInfo",
    "AuthenticationError",
    "AvailableNumber",
    "BadRequestError",
    "CertificateVerificationError",
    "ClientClosedError",
    "ClientOptions",
    "Hooks",
    "InternalServerError",
    "InvalidRequestError",
    "NumbersClient",
    "NumbersError",
    "PaymentRequiredError",
    "ProviderError",
    "ProxyError",
    "RateLimitError",
    "ResponseHeaders",
    "ResponseValidationError",
    "RetryBudget",
    "RetryInfo",
    "RetryPolicy",
    "SearchFilters",
    "SearchInfo",
    "SearchResult",
    "SearchStream",
    "StopReason",
    "Timeouts",
    "Transport",
    "UnexpectedStatusError",
    "UnknownArgumentError",
    "Unset",
    "__version__",
    "to_json_dict",
]
