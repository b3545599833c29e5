"""Reading a search's query string exactly as spec/openapi.yaml describes it.

``parse_query`` turns the raw query string into a ``SearchQuery`` or raises ``QueryError``
carrying the 400 body's ``code``, ``message`` and ``fix``; it does no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ._inventory import FEATURES, SUPPORTED_COUNTRIES

LIMIT_DEFAULT = 10
LIMIT_MAX = 50

_COUNTRY = re.compile(r"[A-Z]{2}")
_AREA_CODE = re.compile(r"[0-9]{1,8}")
_LIMIT = re.compile(r"[0-9]{1,6}")
_KNOWN = ("countryCode", "features", "areaCode", "limit")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search the sandbox accepted."""

    country_code: str
    area_code: str | None = None
    features: tuple[str, ...] = ()
    limit: int = LIMIT_DEFAULT


class QueryError(Exception):
    """A query the API rejects with 400; the fields become the error body."""

    def __init__(self, code: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix


def parse_query(query_string: str) -> SearchQuery:
    """The search ``query_string`` asks for; ``QueryError`` names the first bad parameter."""
    values: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in values and name in _KNOWN:
            raise QueryError(
                "invalid_parameter",
                f"{name} was given more than once",
                f"send {name} once",
            )
        values[name] = value
    return SearchQuery(
        country_code=_country(values.get("countryCode")),
        area_code=_area_code(values.get("areaCode")),
        features=_features(values.get("features")),
        limit=_limit(values.get("limit")),
    )


def _country(value: str | None) -> str:
    supported = ", ".join(SUPPORTED_COUNTRIES)
    if value is None:
        raise QueryError(
            "missing_parameter",
            "countryCode is required",
            f"pass countryCode, an ISO 3166-1 alpha-2 code such as US (one of {supported})",
        )
    if not _COUNTRY.fullmatch(value):
        raise QueryError(
            "invalid_country_code",
            f"countryCode must be two upper-case letters, got {value!r}",
            "pass an ISO 3166-1 alpha-2 code such as US",
        )
    if value not in SUPPORTED_COUNTRIES:
        raise QueryError(
            "unsupported_country",
            f"no numbers are offered in country {value!r}",
            f"search one of {supported}",
        )
    return value


def _area_code(value: str | None) -> str | None:
    if value is not None and not _AREA_CODE.fullmatch(value):
        raise QueryError(
            "invalid_area_code",
            f"areaCode must be 1 to 8 digits, got {value!r}",
            "pass the national destination code without the trunk prefix, e.g. 415 or 20",
        )
    return value


def _features(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    names = value.split(",")
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise QueryError(
            "invalid_features",
            f"features must be a comma-separated list of {', '.join(FEATURES)}, got {value!r}",
            "separate lower-case feature names with commas, with no spaces or empty items",
        )
    return tuple(dict.fromkeys(names))


def _limit(value: str | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    if not _LIMIT.fullmatch(value) or not 1 <= int(value) <= LIMIT_MAX:
        raise QueryError(
            "invalid_limit",
            f"limit must be an integer from 1 to {LIMIT_MAX}, got {value!r}",
            f"ask for at most {LIMIT_MAX} numbers per request and page for more",
        )
    return int(value)
