"""Errors cross process boundaries: every NumbersError survives pickle, copy and deepcopy with
its class, message and attributes; only the engine's response object stays behind."""

import copy
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers import API_KEY, seed_error
from numbers_api.spec_facts import PAGE_MAX

import numbers_async
from numbers_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AvailableNumber,
    CertificateVerificationError,
    ClientClosedError,
    InvalidRequestError,
    NumbersClient,
    NumbersError,
    ProxyError,
    ResponseValidationError,
    UnknownArgumentError,
)
from numbers_async.errors import error_from_response

MakeClient = Callable[..., NumbersClient]
FULL_BODY = seed_error(
    "usage_limit_exceeded", fix="upgrade your plan", provider="telnyx", providerCode="10011"
)
PARTIAL = [
    AvailableNumber(
        phone_number="+14155550100",
        locality="San Francisco",
        administrative_area="CA",
        phone_number_type="local",
        features=["sms", "voice"],
    ),
    # absent fields: UNSET
    AvailableNumber(phone_number="+18005550100", phone_number_type="toll_free"),
]


def status_errors() -> list[APIStatusError]:
    """One error per status from 100 to 599, each with a full seed body and a request that
    carries the API key (as the client's own requests do)."""
    request = httpx.Request(
        "GET", "http://numbers.test/numbers/available", headers={"Authorization": API_KEY}
    )
    return [
        error_from_response(httpx.Response(s, json=FULL_BODY, request=request), attempts=3)
        for s in range(100, 600)
    ]


def other_errors() -> list[NumbersError]:
    request = httpx.Request("GET", "http://numbers.test/", headers={"Authorization": API_KEY})
    invalid_body = httpx.Response(200, content=b"<html>", request=request)
    return [
        NumbersError("plain"),
        APIStatusError(httpx.Response(418, request=request), attempts=1, code="teapot"),
        InvalidRequestError("limit", "limit must be an int >= 1, got 0"),
        UnknownArgumentError("areaCode", "'areaCode' is not a search argument"),
        ClientClosedError("the NumbersClient is closed"),
        APIConnectionError("ConnectError after 3 attempt(s): refused", attempts=3),
        APITimeoutError("ReadTimeout after 3 attempt(s): timed out", attempts=3),
        CertificateVerificationError("ConnectError after 1 attempt(s): refused", attempts=1),
        ProxyError("ProxyError after 1 attempt(s): 407", attempts=1, proxy_status=407),
        ResponseValidationError("not JSON", response=invalid_body, attempts=1),
        ResponseValidationError("undecodable", response=None, attempts=2),
    ]


def every_error() -> list[NumbersError]:
    errors = [*status_errors(), *other_errors()]
    for error in errors:
        error.partial_numbers = list(PARTIAL)
        error.add_note("a note added by a framework")
    return errors


def pickled(protocol: int) -> Callable[[Any], Any]:
    return lambda error: pickle.loads(pickle.dumps(error, protocol))


COPIES: dict[str, Callable[[Any], Any]] = {
    **{f"pickle-{p}": pickled(p) for p in range(pickle.HIGHEST_PROTOCOL + 1)},
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


def test_the_errors_cover_every_public_error_class() -> None:
    """The errors copied below include an instance of every exception numbers_async exports."""
    exported = {getattr(numbers_async, name) for name in numbers_async.__all__}
    classes = {obj for obj in exported if isinstance(obj, type) and issubclass(obj, Exception)}
    assert classes - {type(error) for error in every_error()} == set()


@pytest.mark.parametrize("how", list(COPIES))
def test_every_error_survives_pickle_and_copy(how: str) -> None:
    """Same class, message and attributes (status_code, tracking_id, code, message, fix,
    provider, provider_code, attempts, partial_numbers, argument, notes, ...); response None."""
    for error in every_error():
        copied = COPIES[how](error)
        assert type(copied) is type(error)
        assert (str(copied), copied.args) == (str(error), error.args)
        expected = vars(error) | ({"response": None} if "response" in vars(error) else {})
        assert vars(copied) == expected
        if how == "deepcopy":
            assert copied.partial_numbers is not error.partial_numbers


def test_the_fields_users_read_travel() -> None:
    """The named fields of a 402, by value, after a pickle round trip."""
    (error,) = [e for e in every_error() if getattr(e, "status_code", None) == 402]
    copied = pickle.loads(pickle.dumps(error))
    assert isinstance(copied, APIStatusError)
    fields = ("status_code", "tracking_id", "code", "message", "fix", "provider", "provider_code")
    assert [getattr(copied, name) for name in fields] == [
        402,
        "trk_1",
        "usage_limit_exceeded",
        "it failed",
        "upgrade your plan",
        "telnyx",
        "10011",
    ]
    assert (copied.attempts, copied.partial_numbers, copied.response) == (3, PARTIAL, None)


def test_an_invalid_argument_error_keeps_its_argument_and_value_error_base() -> None:
    """InvalidRequestError stays a ValueError naming its argument."""
    copied = pickle.loads(pickle.dumps(InvalidRequestError("limit", "bad limit")))
    assert isinstance(copied, InvalidRequestError)
    assert isinstance(copied, ValueError)
    assert (copied.argument, str(copied)) == ("limit", "bad limit")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_the_api_key_never_enters_a_pickle(protocol: int) -> None:
    """The response (whose request carries the key) stays behind, at every protocol."""
    for error in every_error():
        assert API_KEY.encode() not in pickle.dumps(error, protocol)


async def test_errors_raised_by_a_search_pickle_without_the_key(make_client: MakeClient) -> None:
    """A real search's error, with its partial numbers and chained cause: pickled, no key."""
    page = [{"phoneNumber": f"+1415555{i:04}"} for i in range(PAGE_MAX)]  # absent fields: UNSET
    pages = iter([httpx.Response(200, json={"numbers": page}), httpx.Response(402, json=FULL_BODY)])
    client = make_client(lambda request: next(pages), page_concurrency=1)
    with pytest.raises(APIStatusError) as caught:
        await client.search("US", limit=2 * PAGE_MAX)
    data = pickle.dumps(caught.value)
    assert API_KEY.encode() not in data
    copied = pickle.loads(data)
    assert (copied.status_code, len(copied.partial_numbers)) == (402, PAGE_MAX)
    assert copied.partial_numbers == caught.value.partial_numbers
