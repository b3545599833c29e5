"""Argument checks, run before any request: each returns the value to send or raises
InvalidRequestError naming the argument (and the value, except for the key)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

from .errors import InvalidRequestError

_COUNTRY = re.compile(r"[A-Za-z]{2}")
_AREA_CODE = re.compile(r"[0-9]{1,8}")
_FEATURE = re.compile(r"[^\s,]+")
_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII: anything else breaks or forges the header


def country_code(value: object) -> str:
    """Two ASCII letters, upper-cased."""
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
        raise InvalidRequestError(
            "country_code",
            f"country_code must be two ASCII letters (ISO 3166-1 alpha-2, e.g. 'US'), "
            f"got {value!r}",
        )
    return value.upper()


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
            f"features must be a list of names or a comma-separated string, got {value!r}",
        )
    for name in names:
        if not isinstance(name, str) or not _FEATURE.fullmatch(name):
            raise InvalidRequestError(
                "features",
                "features: each name must be a non-empty string without whitespace or commas, "
                f"got {name!r} in {value!r}",
            )
    cleaned = dict.fromkeys(str(name).lower() for name in names)
    return ",".join(cleaned) or None


def area_code(value: object) -> str | None:
    """1 to 8 digits, or None for no filter."""
    if value is None:
        return None
    if not isinstance(value, str) or not _AREA_CODE.fullmatch(value):
        raise InvalidRequestError(
            "area_code", f"area_code must be a string of 1 to 8 digits (e.g. '415'), got {value!r}"
        )
    return value


def limit(value: object) -> int:
    """The total number of numbers wanted: an int >= 1."""
    return positive_int("limit", value)


def api_key(value: object) -> str:
    """A non-empty key of visible ASCII characters; the message never repeats the key."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(
            "api_key", "api_key is missing: pass api_key= or set NUMBERS_API_KEY"
        )
    if not _KEY.fullmatch(value):
        raise InvalidRequestError(
            "api_key",
            "api_key must be visible ASCII with no spaces, newlines or control characters",
        )
    return value


def base_url(value: object) -> str:
    """An absolute http(s) URL, without a trailing slash."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(
            "base_url", "base_url is missing: pass base_url= or set NUMBERS_BASE_URL"
        )
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidRequestError("base_url", f"base_url is not a valid URL: {value!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(
            "base_url", f"base_url must be an absolute http:// or https:// URL, got {value!r}"
        )
    return value.rstrip("/")


def timeout(value: object) -> httpx.Timeout:
    """Seconds (> 0) or an httpx.Timeout; None is refused: every request needs a timeout."""
    if isinstance(value, httpx.Timeout):
        if None in (value.connect, value.read, value.write, value.pool):
            raise InvalidRequestError(
                "timeout", f"timeout must set connect, read, write and pool, got {value!r}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidRequestError(
            "timeout", f"timeout must be a number of seconds > 0 or an httpx.Timeout, got {value!r}"
        )
    return httpx.Timeout(float(value))


def max_retries(value: object) -> int:
    """An int >= 0: extra attempts per page."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError("max_retries", f"max_retries must be an int >= 0, got {value!r}")
    return value


def positive_int(name: str, value: object) -> int:
    """An int >= 1 (bool refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(name, f"{name} must be an int >= 1, got {value!r}")
    return value


def non_negative(name: str, value: object) -> float:
    """A number >= 0 (retry settings)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InvalidRequestError(name, f"{name} must be a number >= 0, got {value!r}")
    return float(value)
