"""Error unwrapping: one mapping from status to class, every body shape read safely."""

import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
import yaml
from helpers import numbers_body, seed_error

import numbers_async
from numbers_async import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NumbersClient,
    NumbersError,
    PaymentRequiredError,
    ProviderError,
    ResponseValidationError,
    UnexpectedStatusError,
)
from numbers_async.errors import error_from_response

MakeClient = Callable[..., NumbersClient]
SPEC = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"
FULL_402 = {
    "trackingId": "trk_123",
    "error": {
        "code": "usage_limit_exceeded",
        "message": "Monthly search quota reached",
        "fix": "upgrade your plan",
        "provider": "telnyx",
        "providerCode": "10011",
    },
}


def response(status: int, content: bytes = b"", **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://numbers.test/numbers/available")
    return httpx.Response(status, content=content, headers=headers, request=request)


def test_every_documented_error_status_has_its_own_class() -> None:
    """Each non-2xx status in spec/openapi.yaml maps to a distinct APIStatusError subclass."""
    spec = yaml.safe_load(SPEC.read_text())
    statuses = [int(s) for s in spec["paths"]["/numbers/available"]["get"]["responses"]]
    errors = {s: type(error_from_response(response(s), attempts=1)) for s in statuses if s >= 300}
    assert set(errors) == {400, 401, 402, 500, 502}
    assert len(set(errors.values())) == len(errors)
    assert all(issubclass(cls, APIStatusError) for cls in errors.values())
    assert UnexpectedStatusError not in errors.values()


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (500, InternalServerError),
        (502, ProviderError),
        (503, UnexpectedStatusError),
        (429, numbers_async.RateLimitError),
        (404, UnexpectedStatusError),
        (302, UnexpectedStatusError),
        (520, UnexpectedStatusError),
        (599, UnexpectedStatusError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIStatusError]) -> None:
    """Documented statuses get their class; anything else, even non-IANA, is UnexpectedStatus."""
    error = error_from_response(response(status), attempts=2)
    assert type(error) is cls
    assert error.status_code == status
    assert error.attempts == 2


@pytest.mark.parametrize(
    ("status", "location", "shown"),
    [
        (301, "https://api.numbers.test/v2/numbers", "(Location: https://api.numbers.test/v2/"),
        (307, "/v2/" + "x" * 500, "(Location: /v2/" + "x" * 196 + ")"),
        (302, None, None),
        (400, "https://elsewhere.test/", None),
    ],
)
def test_a_redirect_names_where_it_pointed(
    status: int, location: str | None, shown: str | None
) -> None:
    """Redirects are not followed: a 3xx's message names its Location (at most 200
    characters; it was only in error.headers), an error status's is left out."""
    headers = {} if location is None else {"Location": location}
    error = error_from_response(response(status, b"", **headers), attempts=1)
    assert type(error) is UnexpectedStatusError or status == 400
    if shown is None:
        assert "Location" not in str(error)
    else:
        assert shown in str(error)


@pytest.mark.parametrize(
    "encode",
    [
        lambda key: key,
        lambda key: quote(key),  # "/" left as is
        lambda key: quote(key, safe=""),
        lambda key: re.sub("%[0-9A-F]{2}", lambda hit: hit.group().lower(), quote(key, safe="")),
        quote_plus,
    ],
    ids=["raw", "quote", "quote-all", "lowercase-escapes", "quote-plus"],
)
def test_a_redirect_to_a_url_holding_the_key_masks_it(encode: Callable[[str], str]) -> None:
    """A Location quoting the key as a URL may carry it: the message shows [secure] (it showed
    the key when encoded with "/" kept, with lowercase escapes or with "+")."""
    key = "sk_live/Ab+c d=9%"
    request = httpx.Request(
        "GET", "http://numbers.test/numbers/available", headers={"Authorization": f"Bearer {key}"}
    )
    location = f"https://numbers.test/login?token={encode(key)}"
    sent = httpx.Response(302, headers={"Location": location}, request=request)
    message = str(error_from_response(sent, attempts=1))
    assert "(Location: https://numbers.test/login?token=[secure])" in message


def test_a_401_without_a_fix_says_what_to_check() -> None:
    """The API documents no body for 401: the error's note names the key to check (it read
    "401 Unauthorized (empty body)", fix None); a 401 whose body has a fix gets no note."""
    bare = error_from_response(response(401), attempts=1)
    assert bare.__notes__ == [
        "numbers-async: the API refused the key: check api_key= (NUMBERS_API_KEY)"
    ]
    assert pickle.loads(pickle.dumps(bare)).__notes__ == bare.__notes__
    body = json.dumps({"trackingId": "trk_1", "error": {"code": "c", "message": "m", "fix": "f"}})
    with_fix = error_from_response(response(401, body.encode()), attempts=1)
    assert with_fix.fix == "f"
    assert not hasattr(with_fix, "__notes__")


@pytest.mark.parametrize(("header", "expected"), [(None, None), ("120", 120.0), ("1_0", None)])
@pytest.mark.parametrize("status", [400, 402, 502, 503, 520])
def test_every_status_error_carries_retry_after(
    status: int, header: str | None, expected: float | None
) -> None:
    """retry_after is the parsed, unclamped Retry-After of any status, or None."""
    sent = response(status)
    if header is not None:
        sent.headers["Retry-After"] = header
    assert error_from_response(sent, attempts=1).retry_after == expected


def test_full_body_is_unwrapped_and_reads_well() -> None:
    """Every seed field lands on the exception, and str() reads like the documented example."""
    error = error_from_response(
        response(402, httpx.Response(402, json=FULL_402).content), attempts=1
    )
    assert isinstance(error, PaymentRequiredError)
    assert (error.tracking_id, error.code, error.message) == (
        "trk_123",
        "usage_limit_exceeded",
        "Monthly search quota reached",
    )
    assert (error.fix, error.provider, error.provider_code) == (
        "upgrade your plan",
        "telnyx",
        "10011",
    )
    assert str(error) == (
        "402 usage_limit_exceeded: Monthly search quota reached (fix: upgrade your plan) "
        "[trackingId=trk_123, provider=telnyx/10011]"
    )


@pytest.mark.parametrize(
    ("content", "fields", "text"),
    [
        (
            b'{"trackingId": "t9", "error": {"code": "bad", "message": "no"}}',
            ("t9", "bad", "no", None),
            "502 bad: no [trackingId=t9]",
        ),
        (b'{"trackingId": "t9"}', ("t9", None, None, None), "502 Bad Gateway [trackingId=t9]"),
        (
            b'{"trackingId": 5, "error": {"code": ["x"], "message": "m", "fix": 1}}',
            (None, None, "m", None),
            "502 Bad Gateway: m",
        ),
        (b'{"error": "boom"}', (None, None, None, None), "502 Bad Gateway (undocumented body"),
        (b"", (None, None, None, None), "502 Bad Gateway (empty body)"),
        (b"<html><h1>502 Bad Gateway</h1></html>", (None, None, None, None), "text/html"),
        (b'{"trackingId": "t9", "err', (None, None, None, None), "502 Bad Gateway ("),
        (b"\xff\xfe\x00garbage", (None, None, None, None), "502 Bad Gateway ("),
        (b"[1, 2]", (None, None, None, None), "502 Bad Gateway ("),
        (b"[" * 100_000, (None, None, None, None), "502 Bad Gateway ("),
    ],
    ids=[
        "partial",
        "tracking-only",
        "mistyped",
        "wrong-shape",
        "empty",
        "html",
        "truncated",
        "binary",
        "array",
        "deep",
    ],
)
def test_any_error_body_gives_the_right_class_and_readable_fields(
    content: bytes, fields: tuple[str | None, ...], text: str
) -> None:
    """Partial, empty, HTML, truncated and wrong-shaped bodies still give ProviderError."""
    error = error_from_response(response(502, content, **{"content-type": "text/html"}), attempts=1)
    assert isinstance(error, ProviderError)
    assert (error.tracking_id, error.code, error.message, error.fix) == fields
    assert text in str(error)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'{"numbers": [', "not JSON"),
        (b"{}", "'numbers' is missing or not a list"),
        (b'{"numbers": {"a": 1}}', "'numbers' is missing or not a list"),
        (b"[]", "expected a JSON object"),
        (b'{"numbers": [5]}', "numbers[0]: expected an object"),
        (b'{"numbers": [{"locality": "x"}]}', "'phoneNumber' is missing or not a string"),
        (b'{"numbers": [{"phoneNumber": 14155550123}]}', "'phoneNumber' is missing"),
        (b'{"numbers": [{"phoneNumber": "+1", "locality": 3}]}', "'locality' is not a string"),
        (b'{"numbers": [{"phoneNumber": "+1", "features": "sms"}]}', "'features' is not a list"),
        (b'{"numbers": [{"phoneNumber": "+1", "features": [1]}]}', "'features' is not a list"),
    ],
)
async def test_invalid_2xx_body_raises_response_validation_error(
    make_client: MakeClient, content: bytes, problem: str
) -> None:
    """A 2xx body that is not the documented shape raises ResponseValidationError, once."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=content)

    with pytest.raises(ResponseValidationError) as caught:
        await make_client(handler).search("US")
    assert problem in caught.value.problem
    assert caught.value.status_code == 200
    assert caught.value.response is not None
    assert len(calls) == 1


async def test_extra_fields_are_accepted_and_kept(make_client: MakeClient) -> None:
    """Unknown fields (a newer API) are accepted and reachable on the model."""
    body = numbers_body(["+14155550100"])
    body["numbers"][0]["monthlyCost"] = "1.00"
    body["nextCursor"] = None
    client = make_client(lambda request: httpx.Response(200, json=body))
    (number,) = await client.search("US")
    assert number["monthlyCost"] == "1.00"


async def test_status_error_raised_by_search_has_response_and_body(make_client: MakeClient) -> None:
    """search() raises the mapped class with the response and unwrapped seed fields."""
    client = make_client(lambda request: httpx.Response(400, json=seed_error("invalid_country")))
    with pytest.raises(BadRequestError) as caught:
        await client.search("US")
    assert caught.value.code == "invalid_country"
    assert caught.value.response is not None
    assert caught.value.response.status_code == 400


def test_every_public_error_derives_from_numbers_error() -> None:
    """Every exception class exported by numbers_async is a NumbersError."""
    exported = [getattr(numbers_async, name) for name in numbers_async.__all__]
    classes = [obj for obj in exported if isinstance(obj, type) and issubclass(obj, Exception)]
    assert len(classes) == 17
    assert all(issubclass(cls, NumbersError) for cls in classes)


@pytest.mark.parametrize("status", [400, 402, 502])
def test_a_lone_surrogate_in_an_error_body_leaves_a_message_any_log_can_write(
    status: int,
) -> None:
    """JSON may carry a lone surrogate (``\\ud800``), which no UTF-8 log, file or terminal can
    write: the message shows it escaped (a service's ``log.error("%s", error)`` lost the record
    to a UnicodeEncodeError); the fields keep what the server sent, as numbers do."""
    body = {"trackingId": "trk_\ud800", "error": {"code": "bad", "message": "upstream \udfff"}}
    error = error_from_response(response(status, json.dumps(body).encode()), attempts=1)
    str(error).encode("utf-8")  # it raised UnicodeEncodeError
    assert "upstream \\udfff" in str(error)
    assert "trk_\\ud800" in str(error)
    assert (error.message, error.tracking_id) == ("upstream \udfff", "trk_\ud800")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
