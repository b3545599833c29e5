"""The sandbox's numbers: a finite, deterministic inventory per seed, drawn from the area table.

Every number is generated from its area's digits with a seeded ``random.Random`` and kept only
when ``phonenumbers`` says it is a valid number of that country and of the area's kind, so the
same seed always yields the same inventory. Each area is drawn when a search first needs it and
kept in a bounded cache: the inventory never changes, only what each response samples from it.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers

from .._spec import NUMBER_FIELDS
from ._areas import AREAS, CALLING_CODES, Area, NumberKind

FEATURES = ("sms", "voice", "mms", "fax")
# Fields the spec declares that the inventory has no data for, sent with the spec's example.
_OWN_FIELDS = ("phoneNumber", "locality", "administrativeArea", "phoneNumberType", "features")
_EXAMPLES = tuple(
    (field.name, field.example)
    for field in NUMBER_FIELDS
    if field.name not in _OWN_FIELDS and field.example is not None
)
SUPPORTED_COUNTRIES = tuple(sorted(AREAS))
# Each area holds this many numbers, drawn per area: hundreds to a few thousand.
AREA_SIZE = (200, 2000)


def feature_mask(features: Sequence[str]) -> int:
    """The bit set of these feature names (each one of ``FEATURES``)."""
    mask = 0
    for name in features:
        mask |= 1 << FEATURES.index(name)
    return mask


@dataclass(frozen=True, slots=True)
class SandboxNumber:
    """One available number of the inventory."""

    phone_number: str
    area_code: str
    kind: NumberKind
    features: tuple[str, ...]
    locality: str | None
    administrative_area: str | None
    mask: int

    def to_json(self) -> dict[str, Any]:
        """The API's JSON object for this number; absent fields are left out, as the spec allows."""
        body: dict[str, Any] = {"phoneNumber": self.phone_number}
        if self.locality is not None:
            body["locality"] = self.locality
        if self.administrative_area is not None:
            body["administrativeArea"] = self.administrative_area
        body["phoneNumberType"] = self.kind
        body["features"] = list(self.features)
        for name, example in _EXAMPLES:
            body[name] = example
        return body


class CountryInventory:
    """All numbers of one country for one seed; areas are drawn when a search first needs them."""

    __slots__ = ("_area_codes", "_views", "country", "seed")

    def __init__(self, seed: int, country: str) -> None:
        self.seed = seed
        self.country = country
        self._area_codes = frozenset(area.area_code for area in AREAS[country])
        # Keyed only by the table's area codes (or None) and the 16 feature masks, so bounded.
        self._views: dict[tuple[str | None, int], tuple[SandboxNumber, ...]] = {}

    @property
    def numbers(self) -> Sequence[SandboxNumber]:
        """Every number of the country."""
        return self.matching(None, ())

    def drawn(
        self, area_code: str | None, features: Sequence[str]
    ) -> Sequence[SandboxNumber] | None:
        """``matching``'s answer if it needs no drawing (a cheap lookup), else None."""
        if area_code is not None and area_code not in self._area_codes:
            return ()
        return self._views.get((area_code, feature_mask(features)))

    def matching(self, area_code: str | None, features: Sequence[str]) -> Sequence[SandboxNumber]:
        """The numbers in ``area_code`` (any when ``None``) having every one of ``features``;
        the first time, drawing them takes up to a couple of seconds (``phonenumbers``)."""
        view = self.drawn(area_code, features)
        if view is None:
            mask = feature_mask(features)
            key = (area_code, mask)
            view = tuple(
                number
                for index, area in enumerate(AREAS[self.country])
                if area_code is None or area.area_code == area_code
                for number in _area_numbers(self.seed, self.country, index)
                if number.mask & mask == mask
            )
            self._views[key] = view
        return view


# Bounded caches: a few seeds' inventories stay drawn, a suite trying many seeds stays small.
@functools.lru_cache(maxsize=32)
def country_inventory(seed: int, country: str) -> CountryInventory:
    """The inventory of ``country`` (one of ``SUPPORTED_COUNTRIES``) for ``seed``."""
    return CountryInventory(seed, country)


@functools.lru_cache(maxsize=256)
def _area_numbers(seed: int, country: str, index: int) -> tuple[SandboxNumber, ...]:
    return tuple(_draw_area(seed, country, AREAS[country][index]))


def _draw_area(seed: int, country: str, area: Area) -> list[SandboxNumber]:
    """The numbers of one area: a seeded size, each number valid in ``country``."""
    rng = random.Random(f"{seed}:{country}:{area.area_code}:{','.join(area.prefixes)}")
    size = rng.randint(*AREA_SIZE)
    calling_code = CALLING_CODES[country]
    seen: set[str] = set()
    drawn: list[SandboxNumber] = []
    # Bounded, so a block that turns out mostly invalid yields fewer numbers, never a hang.
    for _ in range(size * 20):
        if len(drawn) == size:
            break
        head = area.area_code + rng.choice(area.prefixes)
        national = head + "".join(rng.choices("0123456789", k=area.length - len(head)))
        if national in seen or not _plausible(calling_code, national):
            continue
        parsed = phonenumbers.PhoneNumber(country_code=calling_code, national_number=int(national))
        # The area's prefixes decide its kind (tests check phonenumbers agrees); asking
        # phonenumbers for the type too would double the cost of starting a sandbox.
        if not phonenumbers.is_valid_number_for_region(parsed, country):
            continue
        seen.add(national)
        features = _draw_features(rng, area.kind, north_american=calling_code == 1)
        drawn.append(
            SandboxNumber(
                phone_number=f"+{calling_code}{national}",
                area_code=area.area_code,
                kind=area.kind,
                features=features,
                locality=area.locality,
                administrative_area=area.administrative_area,
                mask=feature_mask(features),
            )
        )
    return drawn


def _plausible(calling_code: int, national: str) -> bool:
    """False for numbers phonenumbers accepts but no carrier would offer."""
    if calling_code != 1:
        return True
    exchange = national[3:6]
    # N11 exchanges are service codes and 555 is kept for fiction: they would look fake.
    return exchange[1:] != "11" and exchange != "555"


def _draw_features(
    rng: random.Random, kind: NumberKind, *, north_american: bool
) -> tuple[str, ...]:
    """A plausible feature set: every number has voice; texting depends on kind and country."""
    if kind == "toll_free":
        # Toll-free texting needs a verification the sandbox does not model: voice and fax only.
        has = {"voice": True, "fax": rng.random() < 0.4}
    elif kind == "mobile":
        has = {"sms": True, "voice": True, "mms": rng.random() < 0.5}
    else:
        sms = rng.random() < (0.85 if north_american else 0.35)
        has = {
            "sms": sms,
            "voice": True,
            "mms": sms and north_american and rng.random() < 0.6,
            "fax": rng.random() < 0.3,
        }
    return tuple(name for name in FEATURES if has.get(name, False))
