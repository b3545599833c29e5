"""Argument checks, run before any request: each returns the value to send or raises
InvalidRequestError naming the argument (and the value, except for the key)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TypeGuard

import httpx

from . import _spec
from ._auth import KEY_HEADER, Secret
from ._filters import SearchFilters
from ._timeouts import Timeouts
from .errors import InvalidRequestError

# No whitespace, comma, control character or lone surrogate (which UTF-8 cannot encode).
_FEATURE = re.compile(r"[^\s,\x00-\x1f\x7f\ud800-\udfff]+")
_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII: anything else breaks or forges the header
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")  # no CR/LF: nothing can be smuggled in
# Headers that frame the message or route it: set by the HTTP client, never by a search.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"}
)


SHOWN_MOST = 200  # characters of a refused value an error message repeats


def shown(value: object) -> str:
    """``repr(value)`` for an error message, cut to SHOWN_MOST characters; never raises (an int
    of over 4,300 digits has no repr in CPython 3.11+, a caller's object may raise)."""
    try:
        text = repr(value)
    except Exception:
        return f"a value of type {type(value).__name__} that cannot be shown"
    if len(text) <= SHOWN_MOST:
        return text
    return f"{text[:SHOWN_MOST]}... ({len(text):,} characters)"


def parameter(name: str, value: object, given: object = None) -> object:
    """``value`` for the spec's query parameter ``name`` (its Python name), checked against the
    spec's schema for it; None (not sent) is allowed unless the spec requires it. The message
    shows ``given``, what the caller passed, when ``value`` was normalised from it."""
    param = _spec.PARAMETERS[name]
    if value is None and not param.required:
        return None
    problem = _spec.violation(param, value)
    if problem is not None:
        passed = value if given is None else given
        about = f" ({param.description})" if param.description else ""
        raise InvalidRequestError(name, f"{name} {problem}{about}, got {shown(passed)}")
    return value


def country_code(value: object) -> str:
    """The spec's countryCode, after upper-casing ASCII letters (``"us"`` is accepted)."""
    upper = value.upper() if isinstance(value, str) and value.isascii() else value
    return str(parameter("country_code", upper, value))


def features(value: object) -> str | None:
    """Feature names from a list/tuple or a comma-separated string, lower-cased and comma-joined.

    ``None`` or an empty list means no filter; duplicates are dropped, first order kept.
    """
    if value is None:
        return None
    if isinstance(value, str):
        names: Sequence[object] = value.split(",")
    elif isinstance(value, list | tuple):
        names = value
    else:
        raise InvalidRequestError(
            "features",
            f"features must be a list of names or a comma-separated string, got {shown(value)}",
        )
    for name in names:
        if not isinstance(name, str) or not _FEATURE.fullmatch(name):
            raise InvalidRequestError(
                "features",
                "features: each name must be a non-empty string without whitespace, commas or "
                "control characters, "
                f"got {shown(name)} in {shown(value)}",
            )
    cleaned = dict.fromkeys(str(name).lower() for name in names)
    return ",".join(cleaned) or None


def area_code(value: object) -> str | None:
    """The spec's areaCode, or None for no filter."""
    checked = parameter("area_code", value)
    return None if checked is None else str(checked)


def limit(value: object) -> int:
    """The total number of numbers wanted: an int of at least the spec's minimum for one page
    (there is no maximum: a search pages)."""
    minimum = _spec.PARAMETERS["limit"].minimum
    return int_at_least("limit", value, 1 if minimum is None else math.ceil(minimum))


def api_key(key: Secret) -> None:
    """A non-empty key of visible ASCII characters; the message never repeats the key, and no
    local here holds it (a traceback's frames show only the masked ``Secret``)."""
    wrong = key.wrong_type()
    if wrong is not None:
        raise InvalidRequestError("api_key", f"api_key must be a str, got {wrong}")
    if not key.is_text():
        raise InvalidRequestError(
            "api_key", "api_key is missing: pass api_key= or set NUMBERS_API_KEY"
        )
    if not _KEY.fullmatch(key.reveal()):
        raise InvalidRequestError(
            "api_key",
            "api_key must be visible ASCII with no spaces, newlines or control characters",
        )


def base_url(value: object) -> str:
    """An absolute http(s) URL, optionally with a path prefix, without a trailing slash.

    A query or fragment would swallow the endpoint's path and credentials in the URL would
    show in every repr, so all three are refused (and credentials are never echoed)."""
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError("base_url", f"base_url must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidRequestError(
            "base_url", "base_url is missing: pass base_url= or set NUMBERS_BASE_URL"
        )
    shown = "a URL with credentials" if "@" in value else repr(value)
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidRequestError("base_url", f"base_url is not a valid URL: {shown}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(
            "base_url", f"base_url must be an absolute http:// or https:// URL, got {shown}"
        )
    if url.userinfo:
        raise InvalidRequestError(
            "base_url", "base_url must not hold credentials: the key goes in api_key"
        )
    if url.port is not None and not 0 < url.port <= 65535:  # else the resolver wraps it round:
        raise InvalidRequestError(  # port 65536 + p would send the key to port p
            "base_url", f"base_url's port must be 1 to 65535, got {url.port}"
        )
    if url.query or url.fragment or "?" in value or "#" in value:
        raise InvalidRequestError(
            "base_url", f"base_url must have no query or fragment, got {shown}"
        )
    return value.rstrip("/")


def timeout(value: object) -> httpx.Timeout:
    """Finite seconds > 0, a Timeouts or an httpx.Timeout whose parts all are: every request
    needs a timeout that can expire."""
    given = value  # shown as the caller wrote it: a Timeouts has no write part to show
    if isinstance(value, Timeouts):
        value = httpx.Timeout(
            connect=value.connect, read=value.read, write=value.read, pool=value.pool
        )
    if isinstance(value, httpx.Timeout):
        parts = (value.connect, value.read, value.write, value.pool)
        if not all(_finite_number(part) and part > 0 for part in parts):
            raise InvalidRequestError(
                "timeout",
                f"timeout must set every part to finite seconds > 0, got {shown(given)}",
            )
        return value
    if not _finite_number(value) or not value > 0:
        raise InvalidRequestError(
            "timeout",
            f"timeout must be finite seconds > 0 or a Timeouts, got {shown(value)}",
        )
    return httpx.Timeout(float(value))


def attempt_limit(value: float | Timeouts | httpx.Timeout) -> float:
    """The seconds one whole attempt may take: ``timeout`` seconds, or the sum of the parts
    (every part of a validated timeout is finite)."""
    if isinstance(value, Timeouts):
        return value.connect + value.read + value.pool
    if isinstance(value, httpx.Timeout):
        parts = (value.connect, value.read, value.write, value.pool)
        return sum(part for part in parts if part is not None)
    return float(value)


def _finite_number(value: object) -> TypeGuard[float]:
    """An int or float (not bool) that is neither infinite nor NaN, nor an int beyond a
    float's range (``math.isfinite`` raises OverflowError on one)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _utf8(text: str) -> bool:
    """Whether ``text`` can go in a URL: a lone surrogate has no UTF-8 encoding."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def int_at_least(name: str, value: object, minimum: int) -> int:
    """An int (bool refused) >= ``minimum``: limit, page_concurrency, max_retries."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(name, f"{name} must be an int >= {minimum}, got {shown(value)}")
    return value


def max_response_bytes(value: object) -> int | None:
    """None (no limit) or an int >= 1: the decoded body one response may have."""
    return None if value is None else int_at_least("max_response_bytes", value, 1)


def non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (retry settings)."""
    if not _finite_number(value) or not value >= 0:
        raise InvalidRequestError(name, f"{name} must be a finite number >= 0, got {shown(value)}")
    return float(value)


def share(name: str, value: object) -> float:
    """A finite number from 0 (inclusive) to 1 (exclusive): a fraction of something."""
    if not _finite_number(value) or not 0 <= value < 1:
        raise InvalidRequestError(
            name, f"{name} must be a number from 0 to below 1, got {shown(value)}"
        )
    return float(value)


def extra_query(value: object) -> tuple[tuple[str, str], ...]:
    """Query parameters the spec does not describe yet (or the facade does not expose yet),
    sent on every page: a mapping of names to str, int, float or bool. A parameter a search
    argument sets (countryCode, limit, an exposed filter) is refused, so paging stays right."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            "extra_query", f"extra_query must be a mapping of names to values, got {shown(value)}"
        )
    exposed = {param.name: param.python_name for param in _spec.PARAMETERS.values()}
    pairs = []
    for name, item in value.items():
        if not isinstance(name, str) or not name or not _utf8(name):
            raise InvalidRequestError(
                "extra_query",
                f"extra_query names must be non-empty strings UTF-8 can encode, got {shown(name)}",
            )
        if name in exposed and exposed[name] in _exposed_arguments():
            raise InvalidRequestError(
                "extra_query",
                f"extra_query must not set {shown(name)}: pass the {exposed[name]} argument "
                "instead",
            )
        if isinstance(item, bool):
            text = "true" if item else "false"
        elif (isinstance(item, str) and _utf8(item)) or _finite_number(item):
            text = str(item)
        else:
            raise InvalidRequestError(
                "extra_query",
                f"extra_query[{shown(name)}] must be a str (UTF-8 encodable), a finite int or "
                f"float, or a bool, got {shown(item)}",
            )
        pairs.append((name, text))
    return tuple(pairs)


def extra_headers(value: object) -> tuple[tuple[str, str], ...]:
    """Headers to add to every request of a search: a mapping of header names to strings.
    The header carrying the API key and the headers that frame the request are refused."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            "extra_headers",
            f"extra_headers must be a mapping of names to strings, got {shown(value)}",
        )
    pairs = []
    for name, item in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidRequestError(
                "extra_headers", f"extra_headers: {shown(name)} is not a valid header name"
            )
        lowered = name.lower()
        if lowered == KEY_HEADER:
            raise InvalidRequestError(
                "extra_headers",
                f"extra_headers must not set {name}: it carries the API key (pass api_key)",
            )
        if lowered in _RESERVED_HEADERS:
            raise InvalidRequestError(
                "extra_headers", f"extra_headers must not set {name}: the HTTP client sets it"
            )
        if not isinstance(item, str) or not _HEADER_VALUE.fullmatch(item):
            raise InvalidRequestError(
                "extra_headers",
                f"extra_headers[{shown(name)}] must be a string of visible ASCII, spaces or tabs",
            )
        pairs.append((name, item))
    return tuple(pairs)


def _exposed_arguments() -> set[str]:
    """The spec parameters a search sets through its own arguments."""
    return {"country_code", "limit", *SearchFilters.__annotations__}


def deadline(value: object) -> float | None:
    """Seconds a whole search may take: finite and > 0, or None for no bound."""
    if value is None:
        return None
    if not _finite_number(value) or not value > 0:
        raise InvalidRequestError(
            "deadline", f"deadline must be finite seconds > 0 or None, got {shown(value)}"
        )
    return float(value)
