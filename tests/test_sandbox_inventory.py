"""The sandbox inventory: valid numbers with consistent places, deterministic, sampled, finite."""

from __future__ import annotations

import collections
import json
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType, geocoder
from sandbox_support import get, phone_numbers

from numbers_async.sandbox import SUPPORTED_COUNTRIES, create_app
from numbers_async.sandbox._areas import AREAS
from numbers_async.sandbox._inventory import (
    AREA_SIZE,
    CountryInventory,
    _draw_area,
    country_inventory,
)

EXPECTED_TYPES = {
    "local": {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "mobile": {PhoneNumberType.MOBILE},
    "toll_free": {PhoneNumberType.TOLL_FREE},
}
# How phonenumbers' geocoder names the states and provinces of the North American areas.
NANP_REGION_NAMES = {
    "AB": "Alberta",
    "BC": "British Columbia",
    "CA": "California",
    "DC": "Washington D.C.",
    "FL": "Florida",
    "GA": "Georgia",
    "IL": "Illinois",
    "MA": "Massachusetts",
    "NV": "Nevada",
    "NY": "New York",
    "ON": "Ontario",
    "QC": "Quebec",
    "TX": "Texas",
    "WA": "Washington State",
}
# Descriptions the geocoder gives when it knows only the region or country, not the city.
GENERIC_PLACES = {*NANP_REGION_NAMES.values(), "Australia", "France", "Germany", "Ile de France"}
# Every number is checked where a test is cheap; phonenumbers' parse is not, so a share of them.
SHARE = 4


def test_the_issue_countries_are_supported() -> None:
    """At least US, CA, GB, DE, FR and AU have inventory."""
    assert {"US", "CA", "GB", "DE", "FR", "AU"} <= set(SUPPORTED_COUNTRIES)


# A second seed's draw is the long variant (`slow`: `make test-slow` and CI run it).
@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
@pytest.mark.parametrize("country", SUPPORTED_COUNTRIES)
def test_every_number_is_valid_for_its_country_and_kind(country: str, seed: int) -> None:
    """phonenumbers accepts inventory numbers as valid E.164 of their country and of the type
    their area's prefixes stand for (the sandbox trusts its table for the type)."""
    for number in country_inventory(seed, country).numbers[::SHARE]:
        parsed = phonenumbers.parse(number.phone_number)
        assert phonenumbers.is_valid_number_for_region(parsed, country), number
        assert phonenumbers.number_type(parsed) in EXPECTED_TYPES[number.kind], number
        assert phonenumbers.format_number(parsed, 0) == number.phone_number  # E.164


@pytest.mark.parametrize("country", SUPPORTED_COUNTRIES)
def test_each_area_holds_hundreds_to_a_few_thousand_distinct_numbers(country: str) -> None:
    """Every area of the table is stocked within AREA_SIZE, with no number listed twice."""
    numbers = country_inventory(0, country).numbers
    per_area = collections.Counter((n.area_code, n.locality) for n in numbers)
    assert len({n.phone_number for n in numbers}) == len(numbers)
    assert set(per_area) == {(area.area_code, area.locality) for area in AREAS[country]}
    assert all(AREA_SIZE[0] <= count <= AREA_SIZE[1] for count in per_area.values()), per_area


@pytest.mark.parametrize("country", SUPPORTED_COUNTRIES)
def test_kinds_and_places_follow_the_area_table(country: str) -> None:
    """Local numbers carry their area's city and region; mobile and toll-free carry none."""
    calling_code = phonenumbers.country_code_for_region(country)
    for number in country_inventory(0, country).numbers:
        assert number.phone_number.startswith(f"+{calling_code}{number.area_code}")
        geographic = number.kind == "local"
        assert (number.locality is not None) == geographic
        assert (number.administrative_area is not None) == geographic


def _geocoded(country: str) -> dict[tuple[str, str], list[str]]:
    """phonenumbers' English place for a sample of each local area's numbers."""
    places: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    for number in country_inventory(0, country).numbers:
        if number.locality is None or seen[(number.area_code, number.locality)] >= 150:
            continue
        seen[(number.area_code, number.locality)] += 1
        parsed = phonenumbers.parse(number.phone_number)
        description = geocoder.description_for_number(parsed, "en")
        places[(number.area_code, number.locality)].append(description)
    return places


@pytest.mark.parametrize("country", SUPPORTED_COUNTRIES)
def test_locality_is_the_city_the_numbers_geocode_to(country: str) -> None:
    """Where the geocoder names cities in a local area, the one it names most is its locality.

    (For some blocks, like Lyon's 04 78, it knows only the country: nothing to compare.)
    """
    compared = 0
    for (area_code, locality), descriptions in _geocoded(country).items():
        cities = collections.Counter(
            d.split(", ")[0] for d in descriptions if d and d not in GENERIC_PLACES
        )
        if cities:
            compared += 1
            assert cities.most_common(1)[0][0] == locality, (area_code, cities)
    assert compared >= 4


@pytest.mark.parametrize("country", ["US", "CA"])
def test_north_american_numbers_geocode_to_their_state(country: str) -> None:
    """Every sampled US and Canadian local number geocodes to its administrativeArea."""
    by_area = {(a.area_code, a.locality): a.administrative_area for a in AREAS[country]}
    for key, descriptions in _geocoded(country).items():
        state = by_area[key]
        assert state is not None
        for description in descriptions:
            city_and_state = description.rpartition(", ")[2] == state
            assert city_and_state or description == NANP_REGION_NAMES[state], (key, description)


def test_the_same_seed_gives_the_same_inventory_and_different_seeds_differ() -> None:
    """The inventory is a function of the seed alone."""
    area = AREAS["AU"][0]
    first = _draw_area(3, "AU", area)
    assert first == _draw_area(3, "AU", area)
    assert {n.phone_number for n in first} != {n.phone_number for n in _draw_area(4, "AU", area)}


async def test_the_same_seed_and_requests_give_the_same_responses() -> None:
    """Two sandboxes with one seed answer one sequence of requests identically."""
    requests: list[dict[str, Any]] = [
        {"countryCode": "US", "areaCode": "212", "limit": 20},
        {"countryCode": "ZZ"},
        {"countryCode": "CA", "areaCode": "416"},
    ]
    bodies = []
    for _ in range(2):
        app = create_app(seed=11, fail_rate=0.3)
        bodies.append([(await get(app, params)).content for params in requests * 3])
    other_seed = create_app(seed=12)
    assert bodies[0] == bodies[1]
    assert (await get(other_seed, requests[0])).content != bodies[0][0]


async def test_each_response_is_a_fresh_sample() -> None:
    """Two identical searches return different samples of the same matching inventory."""
    app = create_app()
    params = {"countryCode": "US", "areaCode": "212", "features": "sms", "limit": 50}
    first = await phone_numbers(app, params)
    second = await phone_numbers(app, params)
    assert len(set(first)) == len(set(second)) == 50
    assert set(first) != set(second)
    assert all(number.startswith("+1212") for number in first + second)


async def test_a_filter_matching_fewer_than_the_limit_returns_all_of_them() -> None:
    """When fewer numbers match than asked for, every match comes back, each once."""
    app = create_app()
    params = {"countryCode": "US", "areaCode": "800", "features": "fax", "limit": 50}
    pool = country_inventory(0, "US").matching("800", ("fax",))
    assert len(pool) > 50  # so the limit, not the filter, bounds the page
    tiny = country_inventory(0, "US").matching("800", ("fax", "sms"))
    response = await get(app, {**params, "features": "fax,sms"})
    assert (len(tiny), response.json()["numbers"]) == (0, [])
    numbers = await phone_numbers(app, params)
    assert len(numbers) == 50


async def test_paging_through_one_area_code_runs_out_at_its_inventory() -> None:
    """Pages of one area code gather a finite set (hundreds to a few thousand), then nothing new."""
    app = create_app()
    params = {"countryCode": "US", "areaCode": "702", "limit": 50}
    gathered: set[str] = set()
    pages_without_news = 0
    while pages_without_news < 10 and app.request_count < 2000:
        page = await phone_numbers(app, params)
        new = set(page) - gathered
        gathered |= new
        pages_without_news = 0 if new else pages_without_news + 1
    stock = {n.phone_number for n in country_inventory(0, "US").matching("702", ())}
    assert gathered == stock
    assert AREA_SIZE[0] <= len(gathered) <= AREA_SIZE[1]
    assert app.request_count < 2000


def test_area_codes_without_numbers_are_not_cached() -> None:
    """Searching area codes the table lacks finds nothing and leaves the view cache unchanged."""
    inventory = CountryInventory(0, "US")
    inventory.matching("702", ("sms",))
    cached = len(inventory._views)
    found = [inventory.matching(str(code), ("sms",)) for code in range(10_000_000, 10_001_000)]
    assert found == [()] * 1000
    assert len(inventory._views) == cached == 1


def test_numbers_serialize_with_the_api_field_names() -> None:
    """to_json uses the spec's camelCase names and leaves absent places out."""
    numbers = country_inventory(0, "GB").numbers
    local = next(n for n in numbers if n.kind == "local")
    mobile = next(n for n in numbers if n.kind == "mobile")
    assert json.loads(json.dumps(local.to_json())) == {
        "phoneNumber": local.phone_number,
        "locality": local.locality,
        "administrativeArea": local.administrative_area,
        "phoneNumberType": "local",
        "features": list(local.features),
    }
    assert set(mobile.to_json()) == {"phoneNumber", "phoneNumberType", "features"}
