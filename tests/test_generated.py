"""The generated endpoint function: the request it builds and what it does with each response.

The last tests pin down how the generated parser fails on bodies and statuses the spec does not
describe; the facade (numbers_async) exists to turn exactly these failures into NumbersError.
"""

import json

import httpx
import pytest
from numbers_api import AuthenticatedClient
from numbers_api.api.default import search_available_numbers
from numbers_api.models import AvailableNumbersResponse, ErrorResponse
from numbers_api.types import UNSET
from pytest_httpx import HTTPXMock

BASE = "http://api.test"
SEED_200 = {
    "numbers": [
        {
            "phoneNumber": "+14155550123",
            "locality": "San Francisco",
            "administrativeArea": "CA",
            "phoneNumberType": "local",
            "features": ["sms", "voice"],
        },
        {"phoneNumber": "+18005550199"},
    ]
}
SEED_ERROR = {
    "trackingId": "trk_123",
    "error": {
        "code": "provider_error",
        "message": "Upstream provider failed",
        "fix": "Retry later",
        "provider": "telnyx",
        "providerCode": "10011",
    },
}


def make_client() -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE, token="secret-key")


async def test_builds_request_with_seed_query_names_and_bearer(httpx_mock: HTTPXMock) -> None:
    """Query parameters use the seed's names; the key goes in a bearer header."""
    httpx_mock.add_response(json=SEED_200)
    async with make_client() as client:
        await search_available_numbers.asyncio_detailed(
            client=client, country_code="US", features="sms,voice", area_code="415", limit=50
        )
    request = httpx_mock.get_request()
    assert request is not None
    assert request.method == "GET"
    assert request.url.path == "/numbers/available"
    assert dict(request.url.params) == {
        "countryCode": "US",
        "features": "sms,voice",
        "areaCode": "415",
        "limit": "50",
    }
    assert request.headers["Authorization"] == "Bearer secret-key"


async def test_optional_parameters_are_left_out(httpx_mock: HTTPXMock) -> None:
    """Unset optional parameters are not sent; limit defaults to 10 as the seed says."""
    httpx_mock.add_response(json=SEED_200)
    async with make_client() as client:
        await search_available_numbers.asyncio_detailed(client=client, country_code="CA")
    request = httpx_mock.get_request()
    assert request is not None
    assert dict(request.url.params) == {"countryCode": "CA", "limit": "10"}


async def test_parses_seed_shaped_200(httpx_mock: HTTPXMock) -> None:
    """A seed-shaped 200 body parses into AvailableNumbersResponse with every field."""
    httpx_mock.add_response(json=SEED_200)
    async with make_client() as client:
        response = await search_available_numbers.asyncio_detailed(client=client, country_code="US")
    parsed = response.parsed
    assert isinstance(parsed, AvailableNumbersResponse)
    first, second = parsed.numbers
    assert first.phone_number == "+14155550123"
    assert first.locality == "San Francisco"
    assert first.administrative_area == "CA"
    assert first.phone_number_type == "local"
    assert first.features == ["sms", "voice"]
    assert second.phone_number == "+18005550199"
    assert second.locality is UNSET
    assert parsed.to_dict() == SEED_200


@pytest.mark.parametrize("status", [400, 402, 502])
async def test_parses_each_error_body(httpx_mock: HTTPXMock, status: int) -> None:
    """400, 402 and 502 bodies parse into ErrorResponse with every field."""
    httpx_mock.add_response(status_code=status, json=SEED_ERROR)
    async with make_client() as client:
        response = await search_available_numbers.asyncio_detailed(client=client, country_code="US")
    assert response.status_code == status
    parsed = response.parsed
    assert isinstance(parsed, ErrorResponse)
    assert parsed.tracking_id == "trk_123"
    assert parsed.error.code == "provider_error"
    assert parsed.error.message == "Upstream provider failed"
    assert parsed.error.fix == "Retry later"
    assert parsed.error.provider == "telnyx"
    assert parsed.error.provider_code == "10011"


@pytest.mark.parametrize("status", [401, 500, 418])
async def test_bodiless_and_undocumented_statuses_parse_to_none(
    httpx_mock: HTTPXMock, status: int
) -> None:
    """401, 500 and undocumented statuses come back as parsed=None, not as an exception."""
    httpx_mock.add_response(status_code=status, text="nope")
    async with make_client() as client:
        response = await search_available_numbers.asyncio_detailed(client=client, country_code="US")
    assert response.status_code == status
    assert response.parsed is None


# How the generated parser fails: each of these escapes as a raw Python exception.
@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        (200, b"<html>bad gateway</html>", json.JSONDecodeError),
        (200, b'{"numbers": [', json.JSONDecodeError),
        (200, b"{}", KeyError),
        (200, b'{"numbers": [{"locality": "x"}]}', KeyError),
        (200, b'{"numbers": 5}', TypeError),
        (200, b"[]", KeyError),
        (200, b"[1]", TypeError),
        (502, b"", json.JSONDecodeError),
        (402, b'{"trackingId": "t"}', KeyError),
        (520, b"", ValueError),  # HTTPStatus(520) is not an IANA status
    ],
)
async def test_generated_parser_raises_raw_exceptions_on_malformed_responses(
    httpx_mock: HTTPXMock, status: int, body: bytes, raised: type[Exception]
) -> None:
    """Non-JSON, truncated or wrong-shaped bodies and non-IANA statuses raise raw errors."""
    httpx_mock.add_response(status_code=status, content=body)
    async with make_client() as client:
        with pytest.raises(raised):
            await search_available_numbers.asyncio_detailed(client=client, country_code="US")


async def test_generated_parser_does_not_check_item_types(httpx_mock: HTTPXMock) -> None:
    """A phoneNumber that is not a string passes the generated parser unchecked."""
    httpx_mock.add_response(json={"numbers": [{"phoneNumber": 14155550123}]})
    async with make_client() as client:
        response = await search_available_numbers.asyncio_detailed(client=client, country_code="US")
    assert isinstance(response.parsed, AvailableNumbersResponse)
    assert response.parsed.numbers[0].phone_number == 14155550123  # type: ignore[comparison-overlap]


def test_generated_client_has_no_timeout_at_all() -> None:
    """The generated client disables httpx's timeout: the facade must always pass one."""
    client = make_client()
    assert client.get_async_httpx_client().timeout == httpx.Timeout(None)


def test_generated_client_repr_shows_the_token() -> None:
    """repr(AuthenticatedClient) prints the key: the facade must never keep or show one."""
    assert "secret-key" in repr(make_client())
