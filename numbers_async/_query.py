"""One search's arguments, validated once at the call into what the requests send."""

from __future__ import annotations

from typing import Any

import attrs
from numbers_api.api.default import search_available_numbers
from numbers_api.types import UNSET

from . import _validation as check


@attrs.frozen
class Query:
    """A validated search: built by ``Query.build`` before any request, so a bad argument
    raises at the call (``iter_search("USA")`` too, not at its first iteration)."""

    country_code: str
    features: str | None
    area_code: str | None
    limit: int

    @classmethod
    def build(
        cls, country_code: object, features: object, area_code: object, limit: object
    ) -> Query:
        """Each argument checked and normalised; InvalidRequestError names the first bad one."""
        return cls(
            country_code=check.country_code(country_code),
            features=check.features(features),
            area_code=check.area_code(area_code),
            limit=check.limit(limit),
        )

    def request(self, size: int) -> dict[str, Any]:
        """The generated endpoint's request for a page of ``size`` numbers."""
        return search_available_numbers._get_kwargs(
            country_code=self.country_code,
            features=UNSET if self.features is None else self.features,
            area_code=UNSET if self.area_code is None else self.area_code,
            limit=size,
        )
