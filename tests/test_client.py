"""NumbersClient: configuration, headers, timeouts, connection ownership, retries, cancellation."""

import asyncio
import copy
import logging
import pickle
from collections.abc import Callable

import httpx
import pytest
from helpers import API_KEY, BASE_URL, SleepRecorder, numbers_body, other_tasks, seed_error
from numbers_api.spec_facts import PAGE_MAX
from pytest_httpx import HTTPXMock

import numbers_async
from numbers_async import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    InternalServerError,
    NumbersClient,
    PaymentRequiredError,
    ProviderError,
    RetryPolicy,
    UnexpectedStatusError,
)

MakeClient = Callable[..., NumbersClient]
URL = f"{BASE_URL}/numbers/available"
OK = numbers_body(["+14155550100", "+14155550101"])


async def test_sends_bearer_key_user_agent_and_query(httpx_mock: HTTPXMock) -> None:
    """Every request carries the bearer key, a numbers-async User-Agent and the seed's names."""
    httpx_mock.add_response(json=OK)
    async with NumbersClient(API_KEY, base_url=BASE_URL) as client:
        await client.search("US", features="sms", area_code="415", limit=2)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith(f"numbers-async/{numbers_async.__version__}")
    assert str(request.url) == f"{URL}?countryCode=US&features=sms&areaCode=415&limit=2"


async def test_an_owned_pool_s_request_is_what_build_request_makes(httpx_mock: HTTPXMock) -> None:
    """A pool of the client's own gets its requests built without httpx's merging (cheaper):
    the same headers, in the same order, and the same timeout as its build_request makes."""
    httpx_mock.add_response(json=OK)
    timeout = httpx.Timeout(5.0, connect=1.0)
    async with NumbersClient(API_KEY, base_url=BASE_URL, timeout=timeout) as client:
        await client.search("US", limit=2)
        request = httpx_mock.get_request()
        assert request is not None
        expected = client._requester.http.build_request("GET", request.url)
    assert request.headers.raw == expected.headers.raw
    assert request.extensions["timeout"] == expected.extensions["timeout"]
    assert request.extensions["timeout"] == {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0}


async def test_configuration_falls_back_to_environment(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NUMBERS_API_KEY and NUMBERS_BASE_URL configure a client built without arguments."""
    monkeypatch.setenv("NUMBERS_API_KEY", "env-key")
    monkeypatch.setenv("NUMBERS_BASE_URL", "https://env.numbers.test/v2/")
    httpx_mock.add_response(json=OK)
    async with NumbersClient() as client:
        await client.search("CA")
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == "Bearer env-key"
    assert request.url.path == "/v2/numbers/available"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (30.0, {"connect": 30.0, "read": 30.0, "write": 30.0, "pool": 30.0}),
        (2, {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}),
        (
            httpx.Timeout(5.0, connect=1.0),
            {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0},
        ),
    ],
)
async def test_timeout_applies_to_every_request_even_on_a_callers_client(
    make_client: MakeClient, configured: float | httpx.Timeout, expected: dict[str, float]
) -> None:
    """The configured timeout reaches each request, overriding a caller client's own."""
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=numbers_body([f"+1{n}" for n in range(PAGE_MAX)]))

    await make_client(handler, timeout=configured).search("US", limit=PAGE_MAX + 10)
    assert seen == [expected, expected]


async def test_owned_pool_is_reused_and_closed() -> None:
    """Without http_client the client owns one pool, closed by async with."""
    async with NumbersClient(API_KEY, base_url=BASE_URL) as client:
        http = client._requester.http
        assert not http.is_closed
    assert http.is_closed
    assert client.is_closed


async def test_callers_http_client_is_not_closed() -> None:
    """A caller-owned http_client stays open after the NumbersClient closes."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=OK)))
    async with NumbersClient(API_KEY, base_url=BASE_URL, http_client=http) as client:
        assert len(await client.search("US")) == 2
    assert not http.is_closed
    await http.aclose()


async def test_search_after_close_raises_client_closed(make_client: MakeClient) -> None:
    """A closed client refuses new searches with a clear error and sends nothing."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=OK)

    client = make_client(handler)
    await client.aclose()
    with pytest.raises(ClientClosedError, match="closed"):
        await client.search("US")
    assert sent == []


def test_repr_shows_base_url_but_never_the_key() -> None:
    """repr() and str() of the client name the base URL and hide the key."""
    client = NumbersClient(API_KEY, base_url=BASE_URL)
    assert BASE_URL in repr(client)
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
async def test_a_client_is_never_pickled_or_copied(how: str) -> None:
    """pickle, copy and deepcopy are refused with a TypeError saying what to do (pickle and
    deepcopy raised about a WeakSet's function or a lock; copy made a client sharing the
    original's pool, which closing either closed); the key is not in it."""
    copying: dict[str, Callable[[object], object]] = {
        "pickle": pickle.dumps,
        "copy": copy.copy,
        "deepcopy": copy.deepcopy,
    }
    async with NumbersClient(API_KEY, base_url=BASE_URL) as client:
        with pytest.raises(TypeError, match="cannot be pickled or copied") as caught:
            copying[how](client)
    assert API_KEY not in str(caught.value)
    assert "with_options()" in str(caught.value)


async def test_502_twice_then_200_succeeds_with_three_requests(
    httpx_mock: HTTPXMock, sleeps: SleepRecorder
) -> None:
    """502, 502, 200: the search succeeds after exactly three requests."""
    httpx_mock.add_response(status_code=502, json=seed_error())
    httpx_mock.add_response(status_code=502, json=seed_error())
    httpx_mock.add_response(json=OK)
    async with NumbersClient(
        API_KEY, base_url=BASE_URL, retry_initial_delay=0, retry_policy=RetryPolicy(sleep=sleeps)
    ) as client:
        numbers = await client.search("US")
    assert len(numbers) == 2
    assert len(httpx_mock.get_requests()) == 3
    assert client.requests_sent == 3
    assert sleeps.delays == [0.0, 0.0]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, numbers_async.BadRequestError),
        (401, numbers_async.AuthenticationError),
        (402, PaymentRequiredError),
        (500, InternalServerError),
        (404, UnexpectedStatusError),
    ],
)
async def test_non_retryable_statuses_are_sent_once(
    httpx_mock: HTTPXMock, sleeps: SleepRecorder, status: int, cls: type[Exception]
) -> None:
    """400, 401, 402, 500 and other statuses are never retried."""
    httpx_mock.add_response(status_code=status, json=seed_error())
    async with NumbersClient(
        API_KEY, base_url=BASE_URL, max_retries=5, retry_policy=RetryPolicy(sleep=sleeps)
    ) as client:
        with pytest.raises(cls) as caught:
            await client.search("US")
    assert len(httpx_mock.get_requests()) == 1
    assert caught.value.attempts == 1  # type: ignore[attr-defined]
    assert sleeps.delays == []


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_statuses_exhaust_max_retries(
    make_client: MakeClient, sleeps: SleepRecorder, status: int
) -> None:
    """429, 502, 503 and 504 get max_retries extra attempts, then raise with the attempt count."""
    retries = 3
    client = make_client(
        lambda request: httpx.Response(status, json=seed_error()), max_retries=retries
    )
    with pytest.raises(numbers_async.APIStatusError) as caught:
        await client.search("US")
    assert caught.value.status_code == status
    assert caught.value.attempts == client.requests_sent == 1 + retries
    assert len(sleeps.delays) == retries


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.RemoteProtocolError("peer closed"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.PoolTimeout("busy"), APITimeoutError),
    ],
)
async def test_transport_failures_are_retried_then_raised_as_connection_errors(
    make_client: MakeClient, exc: httpx.TransportError, cls: type[APIConnectionError]
) -> None:
    """Connection errors and timeouts are retried; when they persist, the typed error says so."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client = make_client(handler, max_retries=2)
    with pytest.raises(cls) as caught:
        await client.search("US")
    assert caught.value.attempts == 3
    assert type(exc).__name__ in str(caught.value)
    assert caught.value.__cause__ is exc


async def test_transport_failure_then_success(make_client: MakeClient) -> None:
    """A dropped connection followed by a good answer is invisible to the caller."""
    outcomes: list[Exception | httpx.Response] = [
        httpx.ReadError("reset"),
        httpx.Response(200, json=OK),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert len(await make_client(handler).search("US")) == 2


@pytest.mark.parametrize(
    ("retry_after", "delay"), [("3", 3.0), ("60", 60.0), ("0", 0.25), ("1_0", 0.25), ("soon", 0.25)]
)
async def test_retry_after_lengthens_the_backoff(
    make_client: MakeClient, sleeps: SleepRecorder, retry_after: str, delay: float
) -> None:
    """A valid Retry-After longer than the jittered backoff (0.25 s here) sets the delay."""
    responses = [
        httpx.Response(503, headers={"Retry-After": retry_after}),
        httpx.Response(200, json=OK),
    ]
    client = make_client(
        lambda request: responses.pop(0),
        retry_initial_delay=0.5,
        retry_policy=RetryPolicy(sleep=sleeps, random=lambda: 0.5),
    )
    await client.search("US")
    assert sleeps.delays == [delay]


async def test_retry_after_above_its_maximum_fails_at_once(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    """A 503 asking for more than retry_after_max is raised at once, carrying retry_after."""
    client = make_client(lambda request: httpx.Response(503, headers={"Retry-After": "3600"}))
    with pytest.raises(UnexpectedStatusError) as caught:
        await client.search("US")
    assert caught.value.retry_after == 3600.0
    assert caught.value.attempts == 1
    assert sleeps.delays == []
    assert caught.value.__notes__ == [
        "numbers-async: not retried: Retry-After 3600 s is above retry_after_max 60 s"
    ]


@pytest.mark.parametrize("digits", [400, 5000])
async def test_a_retry_after_too_long_for_a_float_fails_at_once(
    make_client: MakeClient, sleeps: SleepRecorder, digits: int
) -> None:
    """A 502 asking to wait 400 or 5,000 digits of seconds: ProviderError at once (it was a
    builtin OverflowError or ValueError escaping search())."""
    wait = "9" * digits
    client = make_client(lambda request: httpx.Response(502, headers={"Retry-After": wait}))
    with pytest.raises(ProviderError) as caught:
        await client.search("US")
    assert (caught.value.retry_after, caught.value.attempts) == (float("inf"), 1)
    assert sleeps.delays == []


def test_retry_arguments_override_the_fields_of_retry_policy() -> None:
    """retry_policy sets everything; max_retries and the delays, when given, win over it."""
    policy = RetryPolicy(max_retries=7, initial_delay=2.0, max_delay=3.0, retry_after_max=5.0)
    assert NumbersClient(API_KEY, base_url=BASE_URL, retry_policy=policy).retry_policy is policy
    client = NumbersClient(
        API_KEY, base_url=BASE_URL, retry_policy=policy, max_retries=0, retry_max_delay=1.0
    )
    assert client.retry_policy == RetryPolicy(
        max_retries=0, initial_delay=2.0, max_delay=1.0, retry_after_max=5.0
    )
    default = NumbersClient(API_KEY, base_url=BASE_URL).retry_policy
    # The README's documented defaults (comparing with RetryPolicy() could not fail).
    assert (default.max_retries, default.initial_delay, default.max_delay) == (2, 0.5, 8.0)
    assert default.retry_after_max == 60.0


async def test_a_retried_failure_that_persists_says_retries_ran_out(
    make_client: MakeClient,
) -> None:
    """The error raised after the last retry carries a note naming max_retries."""
    client = make_client(lambda request: httpx.Response(502), max_retries=1)
    with pytest.raises(ProviderError) as caught:
        await client.search("US")
    assert caught.value.__notes__ == ["numbers-async: gave up after 2 attempts (max_retries)"]


async def test_429_is_retried_after_its_retry_after_then_raised_as_rate_limit_error(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    """A 429 waits out its Retry-After like a 502 and, when retries end, is a RateLimitError."""
    client = make_client(
        lambda request: httpx.Response(429, headers={"Retry-After": "2"}), max_retries=2
    )
    with pytest.raises(numbers_async.RateLimitError) as caught:
        await client.search("US")
    assert isinstance(caught.value, UnexpectedStatusError)
    assert caught.value.retry_after == 2.0
    assert caught.value.attempts == 3
    assert sleeps.delays == [2.0, 2.0]


async def test_backoff_grows_with_full_jitter(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    """Without Retry-After, delays follow random * min(max, initial * 2**retry)."""
    client = make_client(
        lambda request: httpx.Response(502),
        max_retries=5,
        retry_initial_delay=1.0,
        retry_max_delay=5.0,
        retry_policy=RetryPolicy(sleep=sleeps, random=lambda: 0.5),
    )
    with pytest.raises(ProviderError):
        await client.search("US")
    assert sleeps.delays == [0.5, 1.0, 2.0, 2.5, 2.5]


async def test_each_retry_is_logged_as_warning_without_the_key(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """One WARNING per retry with status, attempt, tracking id and delay; never the key."""
    responses = [
        httpx.Response(502, json=seed_error(tracking_id="trk_A")),
        httpx.Response(502, json=seed_error(tracking_id="trk_B")),
        httpx.Response(200, json=OK),
    ]
    client = make_client(lambda request: responses.pop(0), retry_initial_delay=0)
    with caplog.at_level(logging.DEBUG):
        await client.search("US")
    ours = [r for r in caplog.records if r.name == "numbers_async"]
    warnings = [r for r in ours if r.levelno >= logging.WARNING]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    assert [r.levelno for r in ours].count(logging.DEBUG) == 6  # each attempt sent and ended
    assert ours[-1].levelno == logging.INFO
    assert ours[-1].message == (
        "numbers-async: search US: 2 of 10 numbers, 1 pages, 1 requests (3 attempts): short_page"
    )
    assert "502 on attempt 1 of 3 (trackingId=trk_A); retrying in 0.000 s" in warnings[0].message
    assert "attempt 2 of 3 (trackingId=trk_B)" in warnings[1].message
    assert API_KEY not in caplog.text


async def test_a_tracking_id_in_the_retry_log_is_escaped(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A tracking id holding terminal control sequences is logged escaped: NUMBERS_LOG's stderr
    handler would have sent them to the terminal."""
    responses = [
        httpx.Response(502, json=seed_error(tracking_id="trk\x1b]0;pwned\x07")),
        httpx.Response(200, json=OK),
    ]
    client = make_client(lambda request: responses.pop(0), retry_initial_delay=0)
    with caplog.at_level(logging.WARNING, logger="numbers_async"):
        await client.search("US")
    (record,) = caplog.records
    assert "(trackingId=trk\\x1b]0;pwned\\x07)" in record.getMessage()


async def test_cancellation_during_backoff_raises_and_sends_nothing_more(
    make_client: MakeClient,
) -> None:
    """A task cancelled while waiting to retry raises CancelledError and sends nothing more."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(502, headers={"Retry-After": "30"})

    waiting = asyncio.Event()

    async def sleep(delay: float) -> None:
        waiting.set()
        await asyncio.sleep(delay)

    client = make_client(handler, max_retries=3, retry_policy=RetryPolicy(sleep=sleep))
    task = asyncio.create_task(client.search("US"))
    async with asyncio.timeout(5):
        await waiting.wait()  # the first request is answered; the task now waits 30 s
    assert len(sent) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert other_tasks() == []
    assert len(sent) == 1


async def test_concurrent_searches_share_one_client(make_client: MakeClient) -> None:
    """Hundreds of concurrent searches through one client each get their own correct result."""

    def handler(request: httpx.Request) -> httpx.Response:
        area = request.url.params["areaCode"]
        return httpx.Response(200, json=numbers_body([f"+1{area}555{n:04d}" for n in range(3)]))

    client = make_client(handler)
    areas = [f"{n:03d}" for n in range(200, 500)]
    results = await asyncio.gather(*(client.search("US", area_code=a, limit=3) for a in areas))
    for area, numbers in zip(areas, results, strict=True):
        assert [n.phone_number for n in numbers] == [f"+1{area}555{i:04d}" for i in range(3)]
    assert client.requests_sent == len(areas)


async def test_retry_log_names_the_connection_error_and_omits_a_missing_tracking_id(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A retried connection error is logged by its type, with no empty trackingId."""
    outcomes: list[Exception] = [httpx.ConnectError("refused")]

    def handler(request: httpx.Request) -> httpx.Response:
        if outcomes:
            raise outcomes.pop()
        return httpx.Response(200, json=OK)

    client = make_client(handler, retry_initial_delay=0)
    with caplog.at_level(logging.WARNING, logger="numbers_async"):
        await client.search("US")
    (record,) = caplog.records
    assert (
        record.getMessage() == "numbers-async: ConnectError on attempt 1 of 3; retrying in 0.000 s"
    )
