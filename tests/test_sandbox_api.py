"""The sandbox's HTTP surface: routing, auth, validation per the spec, filters and limits."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from sandbox_support import get, phone_numbers

from numbers_async import InvalidRequestError
from numbers_async._pagination import PAGE_MAX
from numbers_async.sandbox import FEATURES, create_app


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no Authorization header"),
        ({"Authorization": "Bearer wrong"}, "wrong key"),
        ({"Authorization": "Basic sandbox"}, "wrong scheme"),
        ({"Authorization": "Bearer"}, "scheme without a key"),
        ({"Authorization": "Bearer sandbox2"}, "key with a suffix"),
    ],
)
async def test_bad_credentials_get_401_with_no_body(headers: dict[str, str], why: str) -> None:
    """A missing or wrong bearer token gets 401 with an empty body, as the spec documents."""
    response = await get(create_app(), {"countryCode": "US"}, headers=headers)
    assert (response.status_code, response.content) == (401, b""), why
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_configured_key_replaces_the_default() -> None:
    """With api_key set, that key is accepted and the default one refused."""
    app = create_app(api_key="k_custom")
    custom = await get(app, {"countryCode": "US"}, headers={"Authorization": "Bearer k_custom"})
    default = await get(app, {"countryCode": "US"})
    assert (custom.status_code, default.status_code) == (200, 401)


@pytest.mark.parametrize("key", ["a b", "k\n", "clé"])
def test_a_key_no_client_can_send_is_refused(key: str) -> None:
    """create_app refuses a key a NumbersClient refuses to send (as the sandbox command does):
    a sandbox expecting it could never be searched."""
    with pytest.raises(InvalidRequestError) as caught:
        create_app(api_key=key)
    assert caught.value.argument == "api_key"


async def test_bearer_scheme_is_case_insensitive() -> None:
    """The auth scheme is matched case-insensitively (RFC 9110), the key exactly."""
    response = await get(
        create_app(), {"countryCode": "US"}, headers={"Authorization": "bearer sandbox"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({}, "missing_parameter", "countryCode"),
        ({"countryCode": "us"}, "invalid_country_code", "countryCode"),
        ({"countryCode": "USA"}, "invalid_country_code", "countryCode"),
        ({"countryCode": "U1"}, "invalid_country_code", "countryCode"),
        ({"countryCode": "US\n"}, "invalid_country_code", "countryCode"),
        ({"countryCode": ""}, "invalid_country_code", "countryCode"),
        ({"countryCode": "ZZ"}, "unsupported_country", "ZZ"),
        ({"countryCode": "US", "limit": "0"}, "invalid_limit", "limit"),
        ({"countryCode": "US", "limit": str(PAGE_MAX + 1)}, "invalid_limit", "limit"),
        ({"countryCode": "US", "limit": "-1"}, "invalid_limit", "limit"),
        ({"countryCode": "US", "limit": "ten"}, "invalid_limit", "limit"),
        ({"countryCode": "US", "limit": "2.5"}, "invalid_limit", "limit"),
        ({"countryCode": "US", "limit": ""}, "invalid_limit", "limit"),
        ({"countryCode": "US", "features": ""}, "invalid_features", "features"),
        ({"countryCode": "US", "features": "sms,,voice"}, "invalid_features", "features"),
        ({"countryCode": "US", "features": "sms, voice"}, "invalid_features", "features"),
        ({"countryCode": "US", "features": "sms,"}, "invalid_features", "features"),
        ({"countryCode": "US", "features": "telepathy"}, "invalid_features", "features"),
        ({"countryCode": "US", "areaCode": "4l5"}, "invalid_area_code", "areaCode"),
        ({"countryCode": "US", "areaCode": ""}, "invalid_area_code", "areaCode"),
        ({"countryCode": "US", "areaCode": "123456789"}, "invalid_area_code", "areaCode"),
        ({"countryCode": ["US", "CA"]}, "invalid_parameter", "countryCode"),
    ],
)
async def test_invalid_queries_get_400_with_the_seed_error_body(
    params: dict[str, Any], code: str, named: str
) -> None:
    """Each invalid parameter gets 400 with trackingId, error.code, a message naming it, a fix."""
    response = await get(create_app(), params)
    body = response.json()
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert body["trackingId"].startswith("trk_")
    assert body["error"]["code"] == code
    assert named in body["error"]["message"]
    assert body["error"]["fix"]


@pytest.mark.parametrize("limit", ["1", "50", "07"])
async def test_limits_within_range_are_accepted(limit: str) -> None:
    """Any integer from 1 to 50 is a valid limit, and that many numbers come back."""
    numbers = await phone_numbers(create_app(), {"countryCode": "US", "limit": limit})
    assert len(numbers) == int(limit)


async def test_limit_defaults_to_ten() -> None:
    """Without limit the API returns 10 numbers, its documented default."""
    assert len(await phone_numbers(create_app(), {"countryCode": "GB"})) == 10


async def test_success_body_has_the_spec_shape() -> None:
    """A 200 is JSON with numbers carrying the spec's field names and value kinds."""
    response = await get(create_app(), {"countryCode": "FR", "limit": 50})
    numbers = response.json()["numbers"]
    assert response.headers["content-type"] == "application/json"
    assert len({number["phoneNumber"] for number in numbers}) == 50
    for number in numbers:
        assert set(number) <= {
            "phoneNumber",
            "locality",
            "administrativeArea",
            "phoneNumberType",
            "features",
        }
        assert number["phoneNumber"].startswith("+33")
        assert number["phoneNumberType"] in {"local", "mobile", "toll_free"}
        assert set(number["features"]) <= set(FEATURES)
        assert ("locality" in number) == (number["phoneNumberType"] == "local")


async def test_area_code_filter_keeps_only_that_area() -> None:
    """areaCode restricts every result to that national destination code."""
    response = await get(create_app(), {"countryCode": "DE", "areaCode": "89", "limit": 50})
    numbers = response.json()["numbers"]
    assert len(numbers) == 50
    assert all(number["phoneNumber"].startswith("+4989") for number in numbers)
    assert {number["locality"] for number in numbers} == {"Munich"}


async def test_unknown_area_code_finds_nothing() -> None:
    """A well-formed area code with no inventory is a 200 with no numbers, not an error."""
    assert await phone_numbers(create_app(), {"countryCode": "US", "areaCode": "999"}) == []


@pytest.mark.parametrize("features", ["sms", "sms,voice", "mms", "fax,voice", "sms,mms,fax"])
async def test_features_filter_keeps_numbers_having_all_of_them(features: str) -> None:
    """features keeps only numbers that have every requested feature."""
    response = await get(create_app(), {"countryCode": "US", "features": features, "limit": 50})
    numbers = response.json()["numbers"]
    assert len(numbers) == 50
    assert all(set(features.split(",")) <= set(number["features"]) for number in numbers)


async def test_unfiltered_search_mixes_number_types() -> None:
    """A country-wide search samples every kind the country has, not one block."""
    app = create_app()
    kinds: set[str] = set()
    for _ in range(10):
        response = await get(app, {"countryCode": "GB", "limit": 50})
        kinds |= {number["phoneNumberType"] for number in response.json()["numbers"]}
    assert kinds == {"local", "mobile", "toll_free"}


async def test_other_paths_get_404_with_an_error_body() -> None:
    """Paths other than /numbers/available get 404 with the seed's error shape."""
    response = await get(create_app(), path="/numbers")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_other_methods_get_405_naming_get(method: str) -> None:
    """Only GET is served on the search path; the others get 405 with Allow: GET."""
    response = await get(create_app(), {"countryCode": "US"}, method=method)
    assert (response.status_code, response.headers["allow"]) == (405, "GET")


async def test_every_request_is_recorded_with_its_status() -> None:
    """app.requests records each request's parameters and status; request_count counts them."""
    app = create_app()
    await get(app, {"countryCode": "US", "limit": 3})
    await get(app, {"countryCode": "US"}, headers={})
    await get(app, {"countryCode": "XX", "areaCode": ""})
    assert app.request_count == 3
    assert [(r.params.get("countryCode"), r.status) for r in app.requests] == [
        ("US", 200),
        ("US", 401),
        ("XX", 400),
    ]
    assert app.requests[0].params["limit"] == "3"
    assert app.requests[2].params["areaCode"] == ""
    assert app.searches_served == 1


async def test_recorded_requests_are_bounded_while_all_are_counted() -> None:
    """app.requests keeps only the latest requests_kept; request_count still counts every one."""
    app = create_app(requests_kept=2)
    for country in ("US", "CA", "GB"):
        await get(app, {"countryCode": country})
    assert app.request_count == 3
    assert [r.params["countryCode"] for r in app.requests] == ["CA", "GB"]


def test_importing_the_client_leaves_the_sandbox_unloaded() -> None:
    """import numbers_async loads neither the sandbox nor its dependencies (import time)."""
    prefixes = ("numbers_async.sandbox", "phonenumbers", "uvicorn")
    code = f"import sys, numbers_async; print([m for m in sys.modules if m.startswith({prefixes})])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "[]"
