"""The hand-made numbering table the inventory is drawn from: real codes, their city and region.

Each ``Area`` is one block of a country's numbering plan: the ``area_code`` a search filters on
(the national destination code, dialled without the trunk prefix), the leading subscriber
digits that keep the block inside one city, the number's length, and the city and region it
belongs to. ``locality`` is the principal city of the area code, ``administrative_area`` the
state, province or nation around it. Mobile and toll-free blocks are not geographic: both are
``None``. Lengths and prefixes follow each national plan; the inventory still checks every
generated number with ``phonenumbers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NumberKind = Literal["local", "mobile", "toll_free"]


@dataclass(frozen=True, slots=True)
class Area:
    """One numbering block: where numbers of one area code, kind and city come from."""

    area_code: str
    kind: NumberKind
    length: int
    prefixes: tuple[str, ...]
    locality: str | None = None
    administrative_area: str | None = None


_ANY = tuple("0123456789")
# A North American exchange (the three digits after the area code) never starts with 0 or 1.
_NANP_EXCHANGE = tuple("23456789")


def _nanp(area_code: str, city: str, state: str) -> Area:
    return Area(area_code, "local", 10, _NANP_EXCHANGE, city, state)


def _nanp_toll_free(area_code: str) -> Area:
    return Area(area_code, "toll_free", 10, _NANP_EXCHANGE)


def _local(
    area_code: str, length: int, city: str, region: str, prefixes: tuple[str, ...] = _ANY
) -> Area:
    return Area(area_code, "local", length, prefixes, city, region)


def _other(area_code: str, kind: NumberKind, length: int, prefixes: tuple[str, ...] = _ANY) -> Area:
    return Area(area_code, kind, length, prefixes)


AREAS: dict[str, tuple[Area, ...]] = {
    "US": (
        _nanp("212", "New York", "NY"),
        _nanp("213", "Los Angeles", "CA"),
        _nanp("312", "Chicago", "IL"),
        _nanp("415", "San Francisco", "CA"),
        _nanp("202", "Washington", "DC"),
        _nanp("206", "Seattle", "WA"),
        _nanp("305", "Miami", "FL"),
        _nanp("404", "Atlanta", "GA"),
        _nanp("512", "Austin", "TX"),
        _nanp("617", "Boston", "MA"),
        _nanp("702", "Las Vegas", "NV"),
        _nanp("713", "Houston", "TX"),
        _nanp_toll_free("800"),
        _nanp_toll_free("888"),
        _nanp_toll_free("877"),
    ),
    "CA": (
        _nanp("416", "Toronto", "ON"),
        _nanp("514", "Montreal", "QC"),
        _nanp("604", "Vancouver", "BC"),
        _nanp("403", "Calgary", "AB"),
        _nanp("613", "Ottawa", "ON"),
        _nanp("780", "Edmonton", "AB"),
        _nanp_toll_free("800"),
        _nanp_toll_free("866"),
    ),
    "GB": (
        _local("20", 10, "London", "England", ("3", "7", "8")),
        _local("121", 10, "Birmingham", "England", tuple("2345678")),
        _local("161", 10, "Manchester", "England", tuple("2345678")),
        _local("151", 10, "Liverpool", "England", tuple("2345678")),
        _local("131", 10, "Edinburgh", "Scotland", tuple("2345678")),
        _local("141", 10, "Glasgow", "Scotland", tuple("2345678")),
        _local("29", 10, "Cardiff", "Wales", ("20",)),
        _local("28", 10, "Belfast", "Northern Ireland", ("90",)),
        _other("7400", "mobile", 10),
        _other("7520", "mobile", 10),
        _other("7911", "mobile", 10),
        _other("800", "toll_free", 10),
        _other("808", "toll_free", 10),
    ),
    "DE": (
        _local("30", 10, "Berlin", "Berlin", tuple("123456789")),
        _local("40", 10, "Hamburg", "Hamburg", tuple("123456789")),
        _local("89", 10, "Munich", "Bavaria", tuple("123456789")),
        _local("69", 10, "Frankfurt am Main", "Hesse", tuple("123456789")),
        _local("221", 10, "Cologne", "North Rhine-Westphalia", tuple("123456789")),
        _local("211", 10, "Düsseldorf", "North Rhine-Westphalia", tuple("123456789")),
        _local("711", 10, "Stuttgart", "Baden-Württemberg", tuple("123456789")),
        _other("151", "mobile", 11),
        _other("160", "mobile", 10),
        _other("170", "mobile", 10),
        _other("176", "mobile", 11),
        _other("800", "toll_free", 10),
    ),
    "FR": (
        _local("1", 9, "Paris", "Île-de-France", ("40", "42", "44", "53")),
        _local("491", 9, "Marseille", "Provence-Alpes-Côte d'Azur"),
        _local("478", 9, "Lyon", "Auvergne-Rhône-Alpes"),
        _local("561", 9, "Toulouse", "Occitanie"),
        _local("493", 9, "Nice", "Provence-Alpes-Côte d'Azur"),
        _local("240", 9, "Nantes", "Pays de la Loire"),
        _local("388", 9, "Strasbourg", "Grand Est"),
        _local("556", 9, "Bordeaux", "Nouvelle-Aquitaine"),
        _local("320", 9, "Lille", "Hauts-de-France"),
        _other("6", "mobile", 9),
        _other("7", "mobile", 9, tuple("3456789")),
        _other("800", "toll_free", 9),
        _other("805", "toll_free", 9),
    ),
    "AU": (
        _local("2", 9, "Sydney", "NSW", ("8", "9")),
        _local("2", 9, "Canberra", "ACT", ("62",)),
        _local("3", 9, "Melbourne", "VIC", ("8", "9")),
        _local("7", 9, "Brisbane", "QLD", ("3",)),
        _local("8", 9, "Perth", "WA", ("9",)),
        _local("8", 9, "Adelaide", "SA", ("8",)),
        _other("412", "mobile", 9),
        _other("423", "mobile", 9),
        _other("438", "mobile", 9),
        _other("1800", "toll_free", 10),
    ),
}

# Country calling codes of the countries above (E.164 prefixes).
CALLING_CODES: dict[str, int] = {"US": 1, "CA": 1, "GB": 44, "DE": 49, "FR": 33, "AU": 61}
