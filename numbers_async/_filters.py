"""The spec's optional query parameters a search exposes, typed: one line each.

``search()`` and ``iter_search()`` take these as keyword arguments (``**filters``, typed by
``SearchFilters`` so mypy and IDEs see each one) and the command line gets an option for each.
When the spec gains a query parameter, ``make generate`` adds it to the generated endpoint and
``tests/test_drift.py`` fails naming it until a line here exposes it, under the generated
endpoint's argument name; the spec's own constraints (type, pattern, enum, bounds) then check
it before any request, and it is sent on every page. Until then ``extra_query`` sends it.
"""

from __future__ import annotations

from typing import TypedDict


class SearchFilters(TypedDict, total=False):
    """Optional filters of a search (``None`` or absent: not sent)."""

    features: list[str] | tuple[str, ...] | str | None  # names every number must have
    area_code: str | None  # national destination code, e.g. "415"
