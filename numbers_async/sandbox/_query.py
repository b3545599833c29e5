"""Reading a search's query string exactly as spec/openapi.yaml describes it.

``parse_query`` turns the raw query string into a ``SearchQuery`` or raises ``QueryError``
carrying the 400 body's ``code``, ``message`` and ``fix``; it does no I/O. Every parameter's
presence, type, pattern, enum and bounds come from the spec (``numbers_api.spec_facts``), so a
regenerated spec changes what the sandbox accepts; the sandbox adds only its own inventory's
rules (supported countries, feature names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from numbers_api import spec_facts
from numbers_api.spec_facts import Parameter

from .._spec import violation
from ._inventory import FEATURES, SUPPORTED_COUNTRIES

_BY_NAME = {param.name: param for param in spec_facts.PARAMETERS}
LIMIT = _BY_NAME["limit"]
LIMIT_DEFAULT = LIMIT.default if isinstance(LIMIT.default, int) else 1
LIMIT_MAX = spec_facts.PAGE_MAX

_NUMBER = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,12})?")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search the sandbox accepted."""

    country_code: str
    area_code: str | None = None
    features: tuple[str, ...] = ()
    limit: int = LIMIT_DEFAULT
    # Spec parameters the sandbox checks but does not filter by (added to the spec since).
    others: dict[str, object] = field(default_factory=dict)


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
        if name in values and name in _BY_NAME:
            raise QueryError(
                "invalid_parameter",
                f"{name} was given more than once",
                f"send {name} once",
            )
        values[name] = value
    checked = {param.name: _checked(param, values.get(param.name)) for param in _BY_NAME.values()}
    country = checked.pop("countryCode")
    area_code = checked.pop("areaCode", None)
    features = checked.pop("features", None)
    limit = checked.pop("limit", None)
    return SearchQuery(
        country_code=_supported(str(country)),
        area_code=None if area_code is None else str(area_code),
        features=_features(None if features is None else str(features)),
        limit=LIMIT_DEFAULT if limit is None else int(str(limit)),
        others={name: value for name, value in checked.items() if value is not None},
    )


def _checked(param: Parameter, raw: str | None) -> object:
    """The value of ``param`` in the query, as its spec type; QueryError when it breaks the
    spec (missing though required, not of its type, or outside its pattern, enum or bounds)."""
    if raw is None:
        if param.required:
            raise QueryError(
                "missing_parameter",
                f"{param.name} is required",
                f"pass {param.name}: {param.description}",
            )
        return None
    value: object = raw
    if param.type in ("integer", "number"):
        value = _number(raw, integer=param.type == "integer")
    elif param.type == "boolean":
        value = {"true": True, "false": False}.get(raw, raw)
    problem = violation(param, value)
    if problem is not None:
        raise QueryError(
            f"invalid_{param.python_name}",
            f"{param.name} {problem}, got {raw!r}",
            f"pass {param.name} as the API documents it: {param.description}",
        )
    return value


def _number(raw: str, *, integer: bool) -> object:
    """``raw`` as an int (or float), or ``raw`` unchanged when it is not one (then refused)."""
    if not _NUMBER.fullmatch(raw) or (integer and "." in raw):
        return raw
    return int(raw) if integer else float(raw)


def _supported(country: str) -> str:
    if country not in SUPPORTED_COUNTRIES:
        raise QueryError(
            "unsupported_country",
            f"no numbers are offered in country {country!r}",
            f"search one of {', '.join(SUPPORTED_COUNTRIES)}",
        )
    return country


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
