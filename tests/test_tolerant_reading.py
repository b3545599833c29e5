"""A tolerant reader: a JSON null in a number's optional field reads as absent, a null or
missing phoneNumber still fails the page, and a page with more numbers than asked is cut
before any model is built."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from numbers_api.models import AvailableNumber
from numbers_api.types import UNSET

from numbers_async import NumbersClient, ResponseValidationError

MakeClient = Callable[..., NumbersClient]
OPTIONAL = {
    "locality": "locality",
    "administrativeArea": "administrative_area",
    "phoneNumberType": "phone_number_type",
    "features": "features",
}


def page(*numbers: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json={"numbers": list(numbers)})


@pytest.mark.parametrize("field", list(OPTIONAL))
async def test_a_null_optional_field_reads_as_absent(make_client: MakeClient, field: str) -> None:
    """locality, administrativeArea, phoneNumberType or features null: the page is read, the
    field is UNSET and left out of to_dict(), the other fields kept."""
    full = {
        "phoneNumber": "+14155550100",
        "locality": "San Francisco",
        "administrativeArea": "CA",
        "phoneNumberType": "local",
        "features": ["sms"],
    }
    client = make_client(page({**full, field: None}, {"phoneNumber": "+14155550101"}))
    first, second = await client.search("US", limit=2)
    assert getattr(first, OPTIONAL[field]) is UNSET
    assert first.to_dict() == {key: value for key, value in full.items() if key != field}
    assert second.to_dict() == {"phoneNumber": "+14155550101"}


async def test_every_optional_field_null_at_once(make_client: MakeClient) -> None:
    """A number with only its phoneNumber set, the rest null: a bare number."""
    client = make_client(page({"phoneNumber": "+14155550100", **dict.fromkeys(OPTIONAL)}))
    (number,) = await client.search("US", limit=1)
    assert number.to_dict() == {"phoneNumber": "+14155550100"}


async def test_a_null_unknown_field_reads_as_absent_too(make_client: MakeClient) -> None:
    """A field the spec does not know yet, null: absent, as it will be once regenerated."""
    client = make_client(page({"phoneNumber": "+14155550100", "monthlyCost": None}))
    (number,) = await client.search("US", limit=1)
    assert number.additional_properties == {}


@pytest.mark.parametrize(
    "item",
    [{"phoneNumber": None}, {"locality": "x"}, {"phoneNumber": None, "locality": None}],
    ids=["null", "missing", "null-with-null-locality"],
)
async def test_a_null_or_missing_phone_number_still_fails_the_page(
    make_client: MakeClient, item: dict[str, Any]
) -> None:
    """phoneNumber is required: null or missing, the page is refused."""
    client = make_client(page({"phoneNumber": "+14155550100"}, item))
    with pytest.raises(ResponseValidationError) as caught:
        await client.search("US", limit=2)
    assert "numbers[1]: 'phoneNumber' is missing" in caught.value.problem


async def test_null_numbers_still_fails_the_page(make_client: MakeClient) -> None:
    """The page's own numbers list null is not an empty page."""
    client = make_client(lambda request: httpx.Response(200, json={"numbers": None}))
    with pytest.raises(ResponseValidationError, match="'numbers' is missing"):
        await client.search("US")


async def test_a_page_longer_than_asked_is_cut_before_models_are_built(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """limit=10 against a page of 1,000 numbers whose 11th is malformed: ten numbers, ten
    models built, and the malformed item beyond the cut was never looked at."""
    built: list[object] = []
    init = AvailableNumber.__init__

    def counting(number: AvailableNumber, *args: Any, **kwargs: Any) -> None:
        built.append(number)
        init(number, *args, **kwargs)

    monkeypatch.setattr(AvailableNumber, "__init__", counting)
    numbers: list[Any] = [{"phoneNumber": f"+1415555{i:04}"} for i in range(1000)]
    numbers[10] = "not a number"
    client = make_client(page(*numbers))
    found = await client.search("US", limit=10)
    assert [n.phone_number for n in found] == [f"+1415555{i:04}" for i in range(10)]
    assert len(built) == 10
