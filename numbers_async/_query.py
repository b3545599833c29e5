"""One search's arguments, validated once at the call into what the requests send."""

from __future__ import annotations

import enum
import functools
import typing
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from numbers_api.api.default import search_available_numbers

from . import _validation as check
from ._filters import SearchFilters
from .errors import InvalidRequestError, UnknownArgumentError

# Filters with a friendlier form than the spec's (a list of features); others are checked
# against the spec as they are.
_NORMALISE: dict[str, Callable[[object], object]] = {
    "features": check.features,
    "area_code": check.area_code,
}


Pairs = tuple[tuple[str, str], ...]
Fields = tuple[str, int, tuple[tuple[str, object], ...], Pairs, Pairs]  # a Query's, in order


@attrs.frozen
class Query:
    """A validated search: built from ``Query.checked`` before any request, so a bad argument
    raises at the call (``iter_search("USA")`` too, not at its first iteration)."""

    country_code: str
    limit: int
    filters: tuple[tuple[str, object], ...] = ()  # the SearchFilters given, checked, not None
    extra_query: tuple[tuple[str, str], ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def checked(
        country_code: object,
        limit: object,
        filters: Mapping[str, object],
        extra_query: object = None,
        extra_headers: object = None,
    ) -> Fields:
        """Each argument checked and normalised (InvalidRequestError names the first bad one):
        a Query's fields in order, as a plain tuple (which ``search()`` holds while it waits for
        its turn: the garbage collector stops tracking a tuple of strings and tuples)."""
        checked = []
        sent: dict[str, list[tuple[str, str]]] = {}  # each argument's query pairs, roughly
        for name, value in filters.items():
            if name not in SearchFilters.__annotations__:
                raise UnknownArgumentError(name, _not_a_filter(name))
            value = _NORMALISE.get(name, _spec_checked(name))(value)
            if value is not None:
                checked.append((name, _wire_value(name, value)))
                sent[name] = [(name, str(value))]
        fields: Fields = (
            check.country_code(country_code),
            check.limit(limit),
            tuple(checked),
            check.extra_query(extra_query),
            check.extra_headers(extra_headers),
        )
        sent["extra_query"] = list(fields[3])
        _check_length(sent)
        return fields

    def request(self, size: int) -> dict[str, Any]:
        """The generated endpoint's request for a page of ``size`` numbers (with the extra
        query parameters and headers, if any)."""
        request = search_available_numbers._get_kwargs(
            country_code=self.country_code, limit=size, **dict[str, Any](self.filters)
        )
        if self.extra_query:
            request["params"] = {**request["params"], **dict(self.extra_query)}
        if self.extra_headers:
            request["headers"] = dict(self.extra_headers)
        return request


QUERY_MOST = 60_000
"""Characters of arguments a query may carry, encoded: httpx refuses a URL whose query is over
65,536 (``InvalidURL``), which left search() with a raw httpx error."""


def _not_a_filter(name: str) -> str:
    """Why ``name`` was refused as a search's keyword: a client option goes through
    ``with_options``; else the filter it resembles (``areaCode``, the API's name for
    ``area_code``) or the filters there are, and ``extra_query`` for the API's parameters the
    client has no argument for."""
    from ._client import ClientOptions  # here: _client imports this module

    if name in ClientOptions.__annotations__:
        return (
            f"{check.shown(name)} is a client option, not a search argument: search through "
            f"client.with_options({name}=...)"
        )
    filters = list(SearchFilters.__annotations__)
    folded = {filter_.replace("_", ""): filter_ for filter_ in filters}
    like = folded.get(name.replace("_", "").lower())
    hint = f"did you mean {like}?" if like else f"the filters are {', '.join(filters)}"
    return (
        f"{check.shown(name)} is not a search argument: {hint} (other query parameters go in "
        "extra_query)"
    )


def _check_length(pairs: dict[str, list[tuple[str, str]]]) -> None:
    """InvalidRequestError naming the argument that puts most in the query when ``pairs`` (each
    argument's query parameters) would encode to more than QUERY_MOST characters."""
    if sum(len(k) + len(v) + 2 for each in pairs.values() for k, v in each) * 12 <= QUERY_MOST:
        return  # a character encodes to 12 at most: surely short enough, nothing encoded
    encoded = {name: len(urllib.parse.urlencode(each)) + 1 for name, each in pairs.items()}
    if sum(encoded.values()) > QUERY_MOST:
        longest = max(encoded, key=encoded.__getitem__)
        raise InvalidRequestError(
            longest,
            f"{longest} is too long: the query would be over {QUERY_MOST:,} characters "
            f"({encoded[longest]:,} of them {longest}'s, URL-encoded)",
        )


def _spec_checked(name: str) -> Callable[[object], object]:
    return lambda value: check.parameter(name, value)


def _wire_value(name: str, value: object) -> object:
    """``value`` as the generated endpoint takes it: a parameter the spec gives an enum is
    typed by a generated Enum there (an open one: any value the spec allows converts)."""
    enum_type = _generated_enum(name)
    return value if enum_type is None else enum_type(value)


@functools.cache
def _generated_enum(name: str) -> type[enum.Enum] | None:
    """The Enum class the generated endpoint annotates argument ``name`` with, if any."""
    hint = typing.get_type_hints(search_available_numbers._get_kwargs)[name]
    for kind in typing.get_args(hint) or (hint,):
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return kind
    return None
