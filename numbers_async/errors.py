"""Every error numbers-async raises, and the one place a response becomes an exception.

    NumbersError
    ├── InvalidRequestError (also ValueError)  bad argument; raised before any request
    │   └── UnknownArgumentError (also TypeError)  a keyword the call does not take
    ├── ClientClosedError (also RuntimeError)  the client was closed before or during a search
    ├── APIStatusError                         the API answered with a non-2xx status
    │   ├── BadRequestError                    400
    │   ├── AuthenticationError                401
    │   ├── PaymentRequiredError               402
    │   ├── InternalServerError                500
    │   ├── ProviderError                      502
    │   └── UnexpectedStatusError              any other non-2xx (503, 520, 302, ...)
    │       └── RateLimitError                 429 (undocumented; a gateway may send it)
    ├── APIConnectionError                     no usable response (retried, up to max_retries)
    │   ├── APITimeoutError                    ... because a timeout expired
    │   ├── CertificateVerificationError       the server's TLS certificate refused (not retried)
    │   └── ProxyError                         the proxy refused the tunnel (retried: 5xx, 408, 429)
    └── ResponseValidationError                a 2xx whose body is not the documented shape

Every error raised by a search carries ``partial_numbers``: the numbers already gathered by
earlier pages (an empty list when the first page failed).

Every error survives ``pickle`` and ``copy.copy``/``deepcopy`` (process pools, Celery, arq)
with its class, message and every attribute, except the engine's ``response`` object, which
becomes ``None``: it holds the request, whose headers carry the API key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from numbers_api.spec_facts import AUTH_HEADER, AUTH_PREFIX

from ._auth import MASKED, key_forms
from ._retry_after import parse_retry_after
from ._spec import ERROR_DETAIL_KEY, ERROR_TRACKING_KEY

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CertificateVerificationError",
    "ClientClosedError",
    "InternalServerError",
    "InvalidRequestError",
    "NumbersError",
    "PaymentRequiredError",
    "ProviderError",
    "ProxyError",
    "RateLimitError",
    "ResponseHeaders",
    "ResponseValidationError",
    "UnexpectedStatusError",
    "UnknownArgumentError",
    "error_from_response",
]


class ResponseHeaders(Mapping[str, str]):
    """A response's headers, read-only: names case-insensitive, a repeated header's values
    joined by ", " (as HTTP allows); an engine-free, picklable copy."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        joined: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        self._headers = joined

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._headers!r})"


class NumbersError(Exception):
    """Base class of every error raised by numbers-async."""

    partial_numbers: list[AvailableNumber]

    def __init__(self, message: str) -> None:
        super().__init__(_encodable(message))
        self.partial_numbers = []

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without __init__ (its signature differs per class) from the message and the
        # attributes, so attributes a subclass adds travel too; the response stays behind.
        state = vars(self).copy()
        if "response" in state:
            state["response"] = None
        return _rebuild, (type(self), self.args), state


def _encodable(message: str) -> str:
    """``message`` with each lone surrogate escaped (``\\ud800``, which a server's JSON may
    carry): an error's text must go to a UTF-8 log or terminal; its fields keep what came."""
    if message.isascii():
        return message
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def _rebuild(cls: type[NumbersError], args: tuple[Any, ...]) -> NumbersError:
    """An error of class ``cls`` with ``args``, its attributes still to be set from the state."""
    return cls.__new__(cls, *args)


class InvalidRequestError(NumbersError, ValueError):
    """An argument is invalid; raised before any request is sent."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


class UnknownArgumentError(InvalidRequestError, TypeError):
    """A keyword the call does not take: an InvalidRequestError, and the TypeError Python
    raises for one, so either ``except`` catches it."""


class ClientClosedError(NumbersError, RuntimeError):
    """The client was closed before or while the search ran."""


class APIStatusError(NumbersError):
    """The API answered with a non-2xx status; the seed's error body is unwrapped onto it.

    ``headers`` (a read-only ``ResponseHeaders``) and ``body`` (bytes; empty when the body could
    not be decoded) are the response's own, on every engine and after pickling; ``response`` is
    the engine's response (None on a copy or an unpickled error).
    ``retry_after`` is the seconds its ``Retry-After`` header asked for (RFC 9110 delta-seconds
    or HTTP-date, not clamped; a past date reads 0.0), or None when it sent none or an invalid one.
    """

    response: httpx.Response | None

    def __init__(
        self,
        response: httpx.Response,
        *,
        attempts: int,
        tracking_id: str | None = None,
        code: str | None = None,
        message: str | None = None,
        fix: str | None = None,
        provider: str | None = None,
        provider_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        mask = KeyMask.of(response)
        self.response = response
        self.status_code = response.status_code
        self.headers = mask.headers(response)
        self.body = mask.body(response)
        self.attempts = attempts
        self.tracking_id = mask.field(tracking_id)
        self.code = mask.field(code)
        self.message = mask.field(message)
        self.fix = mask.field(fix)
        self.provider = mask.field(provider)
        self.provider_code = mask.field(provider_code)
        self.retry_after = retry_after
        super().__init__(self._describe(response, mask.reason(response), mask))

    def _describe(self, response: httpx.Response, reason: str, mask: KeyMask) -> str:
        head = f"{self.status_code} {self.code or reason or 'error'}".strip()
        if self.message:
            head += f": {self.message}"
        elif self.tracking_id is None:
            head += f" ({_describe_body(response)})"
        location = response.headers.get("location")
        if location and 300 <= self.status_code < 400:  # not followed: where it pointed
            head += f" (Location: {mask.text(location)[:_LOCATION_SHOWN]})"
        if self.fix:
            head += f" (fix: {self.fix})"
        tags = []
        if self.tracking_id:
            tags.append(f"trackingId={self.tracking_id}")
        if self.provider:
            provider = self.provider
            if self.provider_code:
                provider += f"/{self.provider_code}"
            tags.append(f"provider={provider}")
        if tags:
            head += f" [{', '.join(tags)}]"
        return head


class BadRequestError(APIStatusError):
    """400: the API rejected the request as invalid."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PaymentRequiredError(APIStatusError):
    """402: the account's usage limits are exceeded."""


class InternalServerError(APIStatusError):
    """500: the API failed internally (not retried: the request may be at fault)."""


class ProviderError(APIStatusError):
    """502: the API's upstream number provider failed (retried)."""


class UnexpectedStatusError(APIStatusError):
    """Any other non-2xx status, including gateway statuses and non-IANA codes like 520."""


class RateLimitError(UnexpectedStatusError):
    """429: too many requests (retried, honouring Retry-After). The API does not document it;
    a gateway in front of it may send it."""


class APIConnectionError(NumbersError):
    """No usable response: the connection failed on every attempt."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class APITimeoutError(APIConnectionError):
    """No usable response: a connect, read, write or pool timeout expired on every attempt."""


class CertificateVerificationError(APIConnectionError):
    """The server's TLS certificate failed verification (a CA not trusted, another host's name,
    expired): not retried, since sending again cannot change the certificate."""


class ProxyError(APIConnectionError):
    """The proxy the requests go through refused the tunnel to the API: ``proxy_status`` is
    its answer to the CONNECT (None if unknown). Retried only for a 5xx, 408 or 429: not for a
    4xx (407: its credentials; 403: a host it does not let through) nor a 3xx (a portal)."""

    def __init__(self, message: str, *, attempts: int, proxy_status: int | None) -> None:
        super().__init__(message, attempts=attempts)
        self.proxy_status = proxy_status


class ResponseValidationError(NumbersError):
    """A 2xx response whose body is not the documented shape; ``headers`` and ``body`` as on
    APIStatusError (empty when there was no response)."""

    def __init__(self, problem: str, *, response: httpx.Response | None, attempts: int) -> None:
        status = response.status_code if response is not None else None
        mask = KeyMask.of(response)
        problem = mask.text(problem)
        super().__init__(f"{status or 'undecodable'} response body is invalid: {problem}")
        self.response = response
        self.status_code = status
        self.headers = mask.headers(response)
        self.body = mask.body(response)
        self.problem = problem
        self.attempts = attempts


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    500: InternalServerError,
    502: ProviderError,
}
# Statuses the spec does not document that a gateway in front of the API sends.
_GATEWAY_CLASSES: dict[int, type[APIStatusError]] = {429: RateLimitError}
_STATUS_CLASSES.update(_GATEWAY_CLASSES)

_LOCATION_SHOWN = 200  # characters of a redirect's Location its error's message repeats
_ERROR_FIELDS = {
    "code": "code",
    "message": "message",
    "fix": "fix",
    "provider": "provider",
    "providerCode": "provider_code",
}


def error_from_response(response: httpx.Response, *, attempts: int) -> APIStatusError:
    """Map a non-2xx response to its exception class, with every body field that could be read."""
    cls = _STATUS_CLASSES.get(response.status_code, UnexpectedStatusError)
    retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    error = cls(
        response,
        attempts=attempts,
        retry_after=retry_after,
        **_read_error_body(_content(response)),
    )
    if isinstance(error, AuthenticationError) and error.fix is None:  # the API sends no body
        error.add_note("numbers-async: the API refused the key: check api_key= (NUMBERS_API_KEY)")
    return error


class KeyMask:
    """Masks the API key ``request`` carried wherever a server echoes it back (an error
    message quoting the Authorization header), as sent, JSON-escaped (``\\/`` too) or
    URL-encoded: the error's fields, reason phrase (the response's too), headers and body then
    show ``[secure]``, as its str, repr, pickle and the CLI do; the response's own headers and
    content keep what came."""

    def __init__(self, request: httpx.Request | None) -> None:
        sent = None if request is None else request.headers.get(AUTH_HEADER)
        if sent is not None and sent.startswith(AUTH_PREFIX):
            self._forms = key_forms(sent[len(AUTH_PREFIX) :])
        else:
            self._forms = ()

    @classmethod
    def of(cls, response: httpx.Response | None) -> KeyMask:
        """The mask of the request ``response`` answered."""
        try:
            return cls(None if response is None else response.request)
        except RuntimeError:  # a response built without a request
            return cls(None)

    def text(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASKED)
        return text

    def field(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)

    def reason(self, response: httpx.Response) -> str:
        """The reason phrase, masked; masked in ``response`` too (its repr shows it)."""
        reason = response.reason_phrase
        masked = self.text(reason)
        if masked != reason:
            response.extensions["reason_phrase"] = masked.encode("ascii", "backslashreplace")
        return masked

    def body(self, response: httpx.Response | None) -> bytes:
        content = (None if response is None else _content(response)) or b""
        for form in self._forms:
            content = content.replace(form.encode(), MASKED.encode())
        return content

    def headers(self, response: httpx.Response | None) -> ResponseHeaders:
        items = () if response is None else response.headers.multi_items()
        return ResponseHeaders((name, self.text(value)) for name, value in items)


def _content(response: httpx.Response) -> bytes | None:
    """The body, or None when it could not be decoded (a broken Content-Encoding)."""
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def _read_error_body(content: bytes | None) -> dict[str, str]:
    """The seed's error fields found in a body, skipping whatever is absent or mistyped."""
    if content is None:
        return {}
    try:
        body: Any = json.loads(content)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(body, dict):
        return {}
    fields: dict[str, str] = {}
    if isinstance(body.get(ERROR_TRACKING_KEY), str):
        fields["tracking_id"] = body[ERROR_TRACKING_KEY]
    detail = body.get(ERROR_DETAIL_KEY)
    if isinstance(detail, dict):
        for key, name in _ERROR_FIELDS.items():
            if isinstance(detail.get(key), str):
                fields[name] = detail[key]
    return fields


def _describe_body(response: httpx.Response) -> str:
    """A short, content-free description of a body that held no readable error."""
    content = _content(response)
    if content is None:
        encoding = response.headers.get("content-encoding")
        return f"body could not be decoded as Content-Encoding {encoding!r}"
    if not content:
        return "empty body"
    kind = response.headers.get("content-type", "no content type")
    return f"undocumented body: {kind}, {len(content)} bytes"
