"""Absent fields read well: UNSET prints as absent, stays itself through copy and pickle (so
results stay equal and serialise), and to_json_dict gives the API's JSON object back."""

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import numbers_async
from numbers_async import UNSET, AvailableNumber, NumbersClient, Unset, to_json_dict

MakeClient = Callable[..., NumbersClient]
TOLL_FREE = AvailableNumber(
    phone_number="+18005550100", phone_number_type="toll_free", features=["voice"]
)
LOCAL = AvailableNumber(
    phone_number="+14155550100",
    locality="San Francisco",
    administrative_area="CA",
    phone_number_type="local",
    features=["sms", "voice"],
)
BARE = AvailableNumber(phone_number="+14155550101")


def pickled(protocol: int) -> Callable[[Any], Any]:
    return lambda value: pickle.loads(pickle.dumps(value, protocol))


COPIES: dict[str, Callable[[Any], Any]] = {
    **{f"pickle-{p}": pickled(p) for p in range(pickle.HIGHEST_PROTOCOL + 1)},
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


def test_users_can_test_for_absence_with_what_numbers_async_exports() -> None:
    """UNSET and Unset come from numbers_async itself; UNSET is falsy."""
    assert {"UNSET", "Unset", "to_json_dict"} <= set(numbers_async.__all__)
    assert TOLL_FREE.locality is UNSET
    assert isinstance(TOLL_FREE.locality, Unset)
    assert not TOLL_FREE.locality


def test_an_absent_field_prints_as_absent() -> None:
    """The README's loop prints nothing for a toll-free number's locality; repr says UNSET."""
    assert f"{TOLL_FREE.phone_number} {TOLL_FREE.locality}" == "+18005550100 "
    assert repr(TOLL_FREE.locality) == "UNSET"
    assert repr(TOLL_FREE) == (
        "AvailableNumber(phone_number='+18005550100', locality=UNSET, "
        "administrative_area=UNSET, phone_number_type='toll_free', features=['voice'], "
        "additional_properties={})"
    )


@pytest.mark.parametrize("how", list(COPIES))
def test_absent_fields_survive_copy_and_pickle(how: str) -> None:
    """After a copy or pickle, UNSET is still UNSET: numbers compare equal and serialise."""
    for number in (TOLL_FREE, LOCAL, BARE):
        copied = COPIES[how](number)
        assert copied == number
        assert (copied.locality is UNSET) == (number.locality is UNSET)
        assert json.loads(json.dumps(copied.to_dict())) == number.to_dict()
    assert COPIES[how](UNSET) is UNSET


def test_to_json_dict_is_the_api_object_without_absent_fields_in_spec_order() -> None:
    """Declared fields in spec order, absent ones left out, unknown ones last."""
    number = AvailableNumber.from_dict(
        {"monthlyCost": "1.00", "features": ["sms"], "phoneNumber": "+1", "locality": "X"}
    )
    assert list(to_json_dict(number).items()) == [
        ("phoneNumber", "+1"),
        ("locality", "X"),
        ("features", ["sms"]),
        ("monthlyCost", "1.00"),
    ]
    assert to_json_dict(BARE) == {"phoneNumber": "+14155550101"}


def test_to_json_dict_is_a_copy() -> None:
    """Changing the dict (a list inside it included) never changes the number."""
    number = copy.deepcopy(LOCAL)
    fields = to_json_dict(number)
    fields["features"].append("fax")
    fields["locality"] = "Oakland"
    assert number == LOCAL


@pytest.mark.parametrize("how", ["direct", *COPIES])
def test_results_round_trip_through_json(how: str) -> None:
    """to_json_dict, json.dumps, json.loads, from_dict: an equal number, before or after a
    copy or pickle, unknown fields included."""
    extra = AvailableNumber.from_dict({"phoneNumber": "+1", "monthlyCost": {"amount": 1}})
    for number in (TOLL_FREE, LOCAL, BARE, extra):
        copied = number if how == "direct" else COPIES[how](number)
        text = json.dumps(to_json_dict(copied))
        assert AvailableNumber.from_dict(json.loads(text)) == number


async def test_a_search_result_with_absent_fields_serialises_after_a_deepcopy(
    make_client: MakeClient,
) -> None:
    """Numbers a search returned, absent fields among them: deepcopied, still equal and JSON."""
    body = {"numbers": [to_json_dict(TOLL_FREE), to_json_dict(BARE)]}
    client = make_client(lambda request: httpx.Response(200, json=body))
    numbers = list(await client.search("US", limit=2))
    copied = copy.deepcopy(numbers)
    assert copied == numbers
    assert json.loads(json.dumps([to_json_dict(n) for n in copied])) == body["numbers"]
