"""Invalid arguments raise InvalidRequestError naming the argument, before any request."""

import enum
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers import API_KEY, BASE_URL, numbers_body

from numbers_async import InvalidRequestError, NumbersClient, RetryBudget, Timeouts
from numbers_async._validation import attempt_limit

MakeClient = Callable[..., NumbersClient]

INVALID_SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("country_code", {"country_code": ""}),
    ("country_code", {"country_code": "U"}),
    ("country_code", {"country_code": "USA"}),
    ("country_code", {"country_code": "1A"}),
    ("country_code", {"country_code": "ÜS"}),
    ("country_code", {"country_code": None}),
    ("country_code", {"country_code": 1}),
    ("country_code", {"country_code": "U S"}),
    ("country_code", {"country_code": "US\n"}),  # fullmatch: no trailing-newline loophole
    ("country_code", {"country_code": "\ufb00"}),  # "ﬀ": upper-cased it is "FF"
    ("limit", {"limit": 0}),
    ("limit", {"limit": -1}),
    ("limit", {"limit": True}),
    ("limit", {"limit": 2.5}),
    ("limit", {"limit": "10"}),
    ("limit", {"limit": None}),
    ("limit", {"limit": float("nan")}),
    ("features", {"features": ["sms,voice"]}),
    ("features", {"features": ["sms", "vo ice"]}),
    ("features", {"features": ["sms", ""]}),
    ("features", {"features": "sms,,voice"}),
    ("features", {"features": "sms, voice"}),
    ("features", {"features": ""}),
    ("features", {"features": [1]}),
    ("features", {"features": 5}),
    ("features", {"features": {"sms"}}),
    ("features", {"features": ["sms\tvoice"]}),
    ("features", {"features": ["\ud800"]}),  # a lone surrogate: UTF-8 cannot encode it
    ("features", {"features": "sms,\udc80"}),
    ("features", {"features": ["s\x00ms"]}),
    ("area_code", {"area_code": "41a"}),
    ("area_code", {"area_code": "123456789"}),
    ("area_code", {"area_code": ""}),
    ("area_code", {"area_code": 415}),
    ("area_code", {"area_code": "41 5"}),
    ("area_code", {"area_code": "٤١٥"}),  # Arabic-Indic digits are not ASCII digits
]


# Refused with the value in the message only in part (an entry of the mapping, or not at all).
PARTLY_SHOWN: list[tuple[str, dict[str, Any]]] = [
    ("extra_query", {"extra_query": {"\udc80": "x"}}),
    ("extra_query", {"extra_query": {"x": "\ud800"}}),
    ("extra_query", {"extra_query": {"x": 10**400}}),  # beyond a float: OverflowError escaped
    ("extra_query", {"extra_query": {"x": 10**5000}}),  # no repr at all (over 4,300 digits)
    # a query over httpx's bound: a raw httpx.InvalidURL escaped
    ("extra_query", {"extra_query": {"x": "a" * 1_000_000}}),
    # 11,000 short pairs: their = and & separators make the query too long
    ("extra_query", {"extra_query": {f"{n:05d}": "" for n in range(11_000)}}),
    ("features", {"features": [f"f{n}" for n in range(20_000)]}),
    # a keyword that is no argument: the API's own name, or none at all (a bare TypeError was
    # raised from the library, saying "search()" on iter_search too)
    ("areaCode", {"areaCode": "415"}),
    ("number_type", {"number_type": "mobile"}),
]


@pytest.mark.parametrize(
    ("keyword", "hint"),
    [
        ("areaCode", "did you mean area_code?"),
        ("AREA_CODE", "did you mean area_code?"),
        ("feature", "the filters are features, area_code"),
    ],
)
async def test_a_keyword_that_is_no_argument_names_the_one_meant(
    make_client: MakeClient, keyword: str, hint: str
) -> None:
    """An unknown keyword: the filter it resembles, or the filters there are, and where the
    API's other query parameters go."""
    client = make_client(lambda request: httpx.Response(500))
    unknown: dict[str, Any] = {keyword: "415"}
    with pytest.raises(InvalidRequestError) as caught:
        client.iter_search("US", **unknown)
    assert caught.value.argument == keyword
    assert isinstance(caught.value, TypeError)  # as Python's own for a keyword not taken
    assert hint in str(caught.value)
    assert "extra_query" in str(caught.value)


@pytest.mark.parametrize("option", ["page_concurrency", "deadline", "timeout"])
async def test_a_client_option_given_to_search_names_with_options(
    make_client: MakeClient, option: str
) -> None:
    """A client option passed to search() (the README shows iter_search(page_concurrency=)):
    the error points to with_options, not to extra_query, which would send it to the API."""
    client = make_client(lambda request: httpx.Response(500))
    misplaced: dict[str, Any] = {option: 5}
    with pytest.raises(InvalidRequestError) as caught:
        await client.search("US", **misplaced)
    assert caught.value.argument == option
    assert f"client.with_options({option}=...)" in str(caught.value)
    assert "extra_query" not in str(caught.value)


@pytest.mark.parametrize(("argument", "kwargs"), [*INVALID_SEARCHES, *PARTLY_SHOWN])
async def test_invalid_search_arguments_fail_before_any_request(
    make_client: MakeClient, argument: str, kwargs: dict[str, Any]
) -> None:
    """Each invalid argument raises InvalidRequestError naming it, with at most 200
    characters of its value; nothing is sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=numbers_body([]))

    client = make_client(handler)
    call = {"country_code": "US", **kwargs}
    country = call.pop("country_code")
    with pytest.raises(InvalidRequestError) as caught:
        await client.search(country, **call)
    with pytest.raises(InvalidRequestError):
        async for _ in client.iter_search(country, **call):
            pass
    assert caught.value.argument == argument
    assert argument in str(caught.value)
    if (argument, kwargs) not in PARTLY_SHOWN:
        assert repr(kwargs[argument])[:20] in str(caught.value)
    assert len(str(caught.value)) < 600
    assert sent == []
    assert isinstance(caught.value, ValueError)


INVALID_CLIENTS: list[tuple[str, dict[str, Any]]] = [
    ("base_url", {"base_url": "ftp://numbers.test"}),
    ("base_url", {"base_url": "numbers.test/v1"}),
    ("base_url", {"base_url": "http://"}),
    ("base_url", {"base_url": 5}),
    ("base_url", {"base_url": "file:///etc/passwd"}),
    ("base_url", {"base_url": "ws://numbers.test"}),
    ("base_url", {"base_url": "https://numbers.test/api?token=abc"}),
    ("base_url", {"base_url": "https://numbers.test/api#frag"}),
    ("base_url", {"base_url": "https://numbers.test/api?"}),
    ("base_url", {"base_url": "https://user:pass@numbers.test"}),
    ("base_url", {"base_url": "http://127.0.0.1:70000"}),  # not port 4464 (70000 - 65536)
    ("base_url", {"base_url": "http://numbers.test:0/v1"}),
    ("base_url", {"base_url": "http://numbers.test:99999999999999999999"}),
    ("api_key", {"api_key": "abc\ndef"}),
    ("api_key", {"api_key": "abc def"}),
    ("api_key", {"api_key": ""}),
    ("api_key", {"api_key": "abc\r\nX-Injected: 1"}),
    ("api_key", {"api_key": "clé"}),
    ("timeout", {"timeout": 0}),
    ("timeout", {"timeout": None}),
    ("timeout", {"timeout": httpx.Timeout(None)}),
    ("timeout", {"timeout": float("inf")}),
    ("timeout", {"timeout": float("nan")}),
    ("timeout", {"timeout": httpx.Timeout(-1.0)}),
    ("timeout", {"timeout": httpx.Timeout(5.0, pool=None)}),
    ("timeout", {"timeout": True}),
    ("timeout", {"timeout": Timeouts(connect=0)}),
    ("timeout", {"timeout": Timeouts(read=float("inf"))}),
    ("max_retries", {"max_retries": -1}),
    ("max_retries", {"max_retries": 1.5}),
    ("retry_initial_delay", {"retry_initial_delay": -0.1}),
    ("retry_initial_delay", {"retry_initial_delay": float("inf")}),
    ("retry_max_delay", {"retry_max_delay": float("nan")}),
    ("retry_max_delay", {"retry_max_delay": "8"}),
    ("retry_policy", {"retry_policy": {"max_retries": 2}}),
    ("timeout", {"timeout": 10**400}),  # beyond a float: OverflowError escaped
    ("timeout", {"timeout": 10**5000}),  # no repr: ValueError escaped building the message
    ("deadline", {"deadline": 10**400}),
    ("retry_max_delay", {"retry_max_delay": 10**400}),
    ("api_key", {"api_key": b"sk_live_abc"}),  # said "missing"
    ("base_url", {"base_url": b"http://numbers.test"}),
    ("http_client", {"http_client": object()}),
]


@pytest.mark.parametrize(("argument", "kwargs"), INVALID_CLIENTS)
async def test_invalid_client_arguments_fail_at_construction(
    argument: str, kwargs: dict[str, Any]
) -> None:
    """A bad base URL, key, timeout or retry setting is refused when the client is built."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=numbers_body([]))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": BASE_URL,
            "http_client": http,
            **kwargs,
        }
        with pytest.raises(InvalidRequestError) as caught:
            NumbersClient(**options)
    assert caught.value.argument == argument
    assert argument in str(caught.value)
    assert "missing" not in str(caught.value) or kwargs[argument] in ("", None)
    assert sent == []


def test_a_bad_timeouts_is_shown_as_given() -> None:
    """Timeouts(read=0) is refused showing that Timeouts (it showed an httpx.Timeout with a
    write part the caller never set)."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(API_KEY, base_url=BASE_URL, timeout=Timeouts(read=0))
    assert "got Timeouts(connect=10.0, read=0, pool=30.0)" in str(caught.value)
    assert "write" not in str(caught.value)


@pytest.mark.parametrize("window", [0, 1e-308, 0.0009])
def test_a_retry_budget_window_under_a_millisecond_is_refused(window: float) -> None:
    """1e-308 was accepted, then the client's construction raised OverflowError."""
    with pytest.raises(InvalidRequestError) as caught:
        RetryBudget(window=window)
    assert caught.value.argument == "window"


def test_a_huge_deadline_in_with_options_is_refused() -> None:
    client = NumbersClient(API_KEY, base_url=BASE_URL)
    with pytest.raises(InvalidRequestError) as caught:
        client.with_options(deadline=10**400)
    assert caught.value.argument == "deadline"


def test_credentials_in_base_url_are_not_repeated() -> None:
    """A base URL holding credentials is refused without echoing them."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(api_key=API_KEY, base_url="https://user:hunter2@numbers.test/v1")
    assert "hunter2" not in str(caught.value)
    assert caught.value.argument == "base_url"


def test_key_is_not_repeated_in_its_own_error() -> None:
    """The message for a malformed key does not contain the key."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(api_key="sk_live_SECRET\n", base_url=BASE_URL)
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "present"),
    [("NUMBERS_API_KEY", {"NUMBERS_BASE_URL": BASE_URL}), ("NUMBERS_BASE_URL", {})],
)
def test_missing_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, present: dict[str, str]
) -> None:
    """Without argument or environment variable, the error says which variable to set."""
    monkeypatch.delenv("NUMBERS_API_KEY", raising=False)
    monkeypatch.delenv("NUMBERS_BASE_URL", raising=False)
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    api_key = None if variable == "NUMBERS_API_KEY" else API_KEY
    with pytest.raises(InvalidRequestError, match=variable):
        NumbersClient(api_key)


@pytest.mark.parametrize(
    ("kwargs", "params"),
    [
        ({}, {"countryCode": "US", "limit": "10"}),
        ({"features": ["SMS", "voice", "sms"]}, {"features": "sms,voice"}),
        ({"features": ("mms",)}, {"features": "mms"}),
        ({"features": "Voice,SMS"}, {"features": "voice,sms"}),
        ({"features": []}, {}),
        ({"area_code": "415"}, {"areaCode": "415"}),
        ({"limit": 7}, {"limit": "7"}),
    ],
)
async def test_valid_arguments_are_normalized_on_the_wire(
    make_client: MakeClient, kwargs: dict[str, Any], params: dict[str, str]
) -> None:
    """Lower-case country codes are upper-cased; features lower-cased, de-duplicated, joined."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=numbers_body([]))

    await make_client(handler).search("us", **kwargs)
    query = dict(sent[0].url.params)
    assert query["countryCode"] == "US"
    assert params.items() <= query.items()
    if "features" not in params:
        assert "features" not in query


@pytest.mark.parametrize(
    ("timeout", "limit"),
    [
        (2.5, 2.5),
        (Timeouts(connect=1.0, read=2.0, pool=4.0), 7.0),
        (httpx.Timeout(connect=1.0, read=2.0, write=8.0, pool=4.0), 15.0),
    ],
)
def test_an_attempt_may_take_its_timeout_or_the_sum_of_its_parts(
    timeout: float | Timeouts | httpx.Timeout, limit: float
) -> None:
    """The whole-attempt bound (a server dripping bytes cannot hold an attempt longer): the
    seconds given, or the sum of a Timeouts' or an httpx.Timeout's parts, as the README says."""
    assert attempt_limit(timeout) == limit
    client = NumbersClient(API_KEY, base_url=BASE_URL, timeout=timeout)
    assert client._requester.attempt_limit == limit


class _Key(str):
    """A key kept in a str subclass (a settings library's SecretStr-like type)."""


class _Keys(enum.StrEnum):
    LIVE = "sk_live_from_an_enum"


@pytest.mark.parametrize("key", [_Key("sk_live_subclassed"), _Keys.LIVE])
def test_a_key_of_a_str_subclass_is_accepted(key: str) -> None:
    """api_key of a str subclass is a str (refused as 'must be a str, got _Key' for a while)."""
    assert NumbersClient(key, base_url=BASE_URL).is_closed is False


async def test_a_long_query_httpx_can_send_is_not_refused(make_client: MakeClient) -> None:
    """20,001 spaces go out as 20,001 '+' (as httpx encodes them), under the bound: sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=numbers_body([]))

    await make_client(handler).search("US", extra_query={"q": " " * 20_001})
    assert len(sent) == 1
