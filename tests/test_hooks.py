"""Hooks see every search and attempt; the library's log is one of them, silent by default."""

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

import httpx
import pytest
from helpers import API_KEY, BASE_URL, numbers_body, seed_error

from numbers_async import (
    APITimeoutError,
    AttemptInfo,
    Hooks,
    InvalidRequestError,
    NumbersClient,
    PaymentRequiredError,
    RetryInfo,
    SearchInfo,
)

MakeClient = Callable[..., NumbersClient]
PAGE = numbers_body([f"+1415555{n:04d}" for n in range(50)])


class Recorder(Hooks):
    """Every event, in order, as a tuple of what it says."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def search_started(self, search: SearchInfo) -> None:
        self.events.append(("started", search.country_code, search.limit))

    def request_sent(self, attempt: AttemptInfo) -> None:
        self.events.append(("sent", attempt.number, attempt.method, attempt.url.path))

    def attempt_ended(self, attempt: AttemptInfo) -> None:
        error = type(attempt.error).__name__ if attempt.error else None
        self.events.append(("ended", attempt.number, attempt.status_code, error))

    def retry_scheduled(self, retry: RetryInfo) -> None:
        self.events.append(("retry", retry.attempt.number, retry.delay, retry.reason))

    def search_finished(self, search: SearchInfo) -> None:
        error = type(search.error).__name__ if search.error else None
        self.events.append(
            (
                "finished",
                search.returned,
                search.pages,
                search.requests,
                search.attempts,
                search.exhausted,
                search.stop_reason,
                error,
            )
        )


async def test_hooks_see_every_attempt_of_a_search_with_one_retry(
    make_client: MakeClient,
) -> None:
    """A 60-number search whose first page gets a 502 then a 200, then short pages: one new
    number, then none twice (two in a row bringing nothing new end it)."""
    responses = [
        httpx.Response(502, json=seed_error(), headers={"Retry-After": "1"}),
        httpx.Response(200, json=PAGE),
        httpx.Response(200, json=numbers_body(["+14155559999"])),
        httpx.Response(200, json=numbers_body([])),
        httpx.Response(200, json=numbers_body([])),
    ]
    recorder = Recorder()
    client = make_client(lambda request: responses.pop(0), hooks=[recorder])
    numbers = await client.search("US", limit=60)
    assert len(numbers) == 51
    assert recorder.events == [
        ("started", "US", 60),
        ("sent", 1, "GET", "/numbers/available"),
        ("ended", 1, 502, "ProviderError"),
        ("retry", 1, 1.0, "retry_after"),
        ("sent", 2, "GET", "/numbers/available"),
        ("ended", 2, 200, None),
        ("sent", 1, "GET", "/numbers/available"),
        ("ended", 1, 200, None),
        ("sent", 1, "GET", "/numbers/available"),
        ("ended", 1, 200, None),
        ("sent", 1, "GET", "/numbers/available"),
        ("ended", 1, 200, None),
        ("finished", 51, 4, 4, 5, True, "short_page", None),
    ]


async def test_a_failed_search_finishes_with_its_error(make_client: MakeClient) -> None:
    """search_finished also runs when the search fails, carrying the error."""
    recorder = Recorder()
    client = make_client(lambda request: httpx.Response(402, json=seed_error()), hooks=[recorder])
    with pytest.raises(PaymentRequiredError):
        await client.search("US")
    assert recorder.events[-2:] == [
        ("ended", 1, 402, "PaymentRequiredError"),
        ("finished", 0, 0, 1, 1, False, None, "PaymentRequiredError"),
    ]


@pytest.mark.parametrize("read", [1, 3, 50])
async def test_iter_search_closed_early_still_finishes(make_client: MakeClient, read: int) -> None:
    """A stream closed by its caller reports how far it got, without an error: ``returned``
    counts the numbers the caller read, not the page they came in (it said 50 for 1)."""
    recorder = Recorder()
    client = make_client(lambda request: httpx.Response(200, json=PAGE), hooks=[recorder])
    stream = client.iter_search("US", limit=500)
    for _ in range(read):
        await anext(stream)
    await stream.aclose()
    assert recorder.events[-1] == ("finished", read, 1, 1, 1, False, None, None)


async def test_pages_never_sent_before_the_deadline_are_not_counted(
    make_client: MakeClient,
) -> None:
    """A first page whose hook holds the loop past the search's deadline: the continuation
    pages then fail before being sent, and ``requests`` (the pages the API may bill) counts the
    one sent (it counted 5); an attempt the deadline ended has no status_code (it said -1)."""
    recorder = Recorder()
    held: list[AttemptInfo] = []

    class HoldsTheLoop(Hooks):
        def attempt_ended(self, attempt: AttemptInfo) -> None:
            if not held:
                held.append(attempt)
                time.sleep(0.4)  # a loaded loop: the 0.3 s deadline passes meanwhile

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=PAGE)

    client = make_client(handler, hooks=[HoldsTheLoop(), recorder], deadline=0.3)
    with pytest.raises(APITimeoutError, match="deadline"):
        await client.search("US", limit=250)
    assert len(sent) == 1
    assert recorder.events[-1] == ("finished", 50, 1, 1, 1, False, None, "APITimeoutError")


async def test_extra_headers_from_a_hook_reach_the_wire(make_client: MakeClient) -> None:
    """What request_sent adds to extra_headers is sent (how the trace context travels)."""
    seen: list[httpx.Request] = []

    class Tag(Hooks):
        def request_sent(self, attempt: AttemptInfo) -> None:
            attempt.extra_headers["x-request-tag"] = f"attempt-{attempt.number}"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=PAGE)

    await make_client(handler, hooks=[Tag()]).search("US", limit=5)
    assert seen[0].headers["x-request-tag"] == "attempt-1"
    assert seen[0].headers["authorization"] == f"Bearer {API_KEY}"


async def test_a_duck_typed_hook_works_and_a_failing_one_propagates(
    make_client: MakeClient,
) -> None:
    """Any object with a Hooks method is a hook; what it raises reaches the caller."""
    calls: list[int] = []

    class Counter:
        def request_sent(self, attempt: AttemptInfo) -> None:
            calls.append(attempt.number)

    class Broken(Hooks):
        def search_started(self, search: SearchInfo) -> None:
            raise RuntimeError("metrics backend down")

    ok = lambda request: httpx.Response(200, json=PAGE)  # noqa: E731
    await make_client(ok, hooks=[Counter()]).search("US", limit=1)
    assert calls == [1]
    with pytest.raises(RuntimeError, match="metrics backend down"):
        await make_client(ok, hooks=[Broken()]).search("US", limit=1)


async def test_a_request_sent_hook_raising_sends_and_counts_nothing(
    make_client: MakeClient,
) -> None:
    """request_sent raising: the caller gets its error, no request went out, and the client
    counts none (requests_sent counted one the server never received)."""
    received: list[httpx.Request] = []

    def ok(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json=PAGE)

    class Broken(Hooks):
        def request_sent(self, attempt: AttemptInfo) -> None:
            raise RuntimeError("tracer down")

    client = make_client(ok, hooks=[Broken()])
    with pytest.raises(RuntimeError, match="tracer down"):
        await client.search("US", limit=1)
    assert received == []
    assert client.requests_sent == 0


def _attribute_hook(calls: list[int]) -> object:
    """A Hooks subclass whose method is set on the instance."""

    class Assigned(Hooks):
        def __init__(self) -> None:
            self.request_sent = lambda attempt: calls.append(attempt.number)  # type: ignore[method-assign]

    return Assigned()


HOOKS_ON_INSTANCES: dict[str, Callable[[list[int]], object]] = {
    "namespace": lambda calls: SimpleNamespace(
        request_sent=lambda attempt: calls.append(attempt.number)
    ),
    "mock": lambda calls: Mock(
        spec=Hooks, request_sent=Mock(side_effect=lambda attempt: calls.append(attempt.number))
    ),
    "attribute": _attribute_hook,
}


@pytest.mark.parametrize("kind", list(HOOKS_ON_INSTANCES))
async def test_a_hook_method_on_the_instance_is_called(make_client: MakeClient, kind: str) -> None:
    """A method the hook has as an attribute (a SimpleNamespace, a Mock(spec=Hooks), one
    assigned in __init__) is called like one its class defines (it was accepted, then never
    called)."""
    calls: list[int] = []
    ok = lambda request: httpx.Response(200, json=PAGE)  # noqa: E731
    await make_client(ok, hooks=[HOOKS_ON_INSTANCES[kind](calls)]).search("US", limit=1)
    assert calls == [1]


@pytest.mark.parametrize(
    "hooks", [object(), [object()], "hooks", [lambda event: None], [Hooks()], [Recorder]]
)
def test_hooks_must_be_hook_objects(hooks: object) -> None:
    """hooks is a list of objects with Hooks methods of their own (Hooks' no-ops observe
    nothing); anything else names the argument."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(API_KEY, base_url="http://numbers.test", hooks=hooks)  # type: ignore[arg-type]
    assert caught.value.argument == "hooks"


class AsyncEnded(Hooks):
    async def attempt_ended(self, attempt: AttemptInfo) -> None:  # type: ignore[override]
        """Never awaited: its body would never run."""


class AsyncGenerated(Hooks):
    async def search_finished(self, search: SearchInfo) -> AsyncIterator[None]:  # type: ignore[override]
        yield


@pytest.mark.parametrize("hook", [AsyncEnded(), AsyncGenerated()])
def test_an_async_hook_method_is_refused(hook: Hooks) -> None:
    """An ``async def`` hook method is refused, named (it was accepted, called, never awaited:
    its body ran 0 times, a RuntimeWarning the only sign)."""
    with pytest.raises(InvalidRequestError, match="called, not awaited") as caught:
        NumbersClient(API_KEY, base_url="http://numbers.test", hooks=[hook])
    assert caught.value.argument == "hooks"
    assert type(hook).__name__ in str(caught.value)


SEARCH_WITH_RETRIES = textwrap.dedent(
    """
    import asyncio, httpx
    from numbers_async import NumbersClient, RetryPolicy

    answers = [502, 503, 200]

    def handler(request):
        status = answers.pop(0)
        body = {"numbers": [{"phoneNumber": "+14155550100"}]} if status == 200 else {}
        return httpx.Response(status, json=body)

    async def main():
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = NumbersClient("sk_hidden_KEY_123", base_url="http://numbers.test",
                               http_client=http, retry_policy=RetryPolicy(initial_delay=0))
        print(len(await client.search("US", limit=1)))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, []),  # no handler configured: nothing on stderr
        ("bogus", []),
        ("warning", ["WARNING", "WARNING"]),
        ("info", ["WARNING", "WARNING", "INFO"]),
        ("DEBUG", ["DEBUG"] * 6 + ["WARNING", "WARNING", "INFO"]),
    ],
)
def test_stderr_stays_silent_unless_numbers_log_asks(
    level: str | None, expected: list[str]
) -> None:
    """A search with two retries writes nothing on stderr in a process that configured no
    logging; NUMBERS_LOG=debug|info|warning shows records from that level, never the key."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBERS_LOG"}
    if level is not None:
        env["NUMBERS_LOG"] = level
    run = subprocess.run(
        [sys.executable, "-c", SEARCH_WITH_RETRIES],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout == "1\n"
    levels = [line.split()[2] for line in run.stderr.splitlines()]
    assert sorted(levels) == sorted(expected), run.stderr
    assert "sk_hidden_KEY_123" not in run.stderr


async def test_an_attempt_the_deadline_ends_has_no_status(make_client: MakeClient) -> None:
    """The deadline ends an attempt waiting for its response: attempt_ended sees no status
    (it saw -1, an internal marker) and the APITimeoutError."""
    recorder = Recorder()

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json=PAGE)

    client = make_client(slow, hooks=[recorder], deadline=0.2)
    with pytest.raises(APITimeoutError, match="deadline"):
        await client.search("US", limit=5)
    assert ("ended", 1, None, "APITimeoutError") in recorder.events


async def test_an_attempt_its_caller_cancels_ends_as_cancelled(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A caller's timeout cancels the attempt waiting for its response: attempt_ended still
    comes (a tracing hook ends its span), cancelled, with no status and no error; the DEBUG
    log line says "cancelled"."""
    ended: list[AttemptInfo] = []

    class Ended(Hooks):
        def attempt_ended(self, attempt: AttemptInfo) -> None:
            ended.append(attempt)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json=PAGE)

    client = make_client(slow, hooks=[Ended()])
    caplog.set_level("DEBUG", logger="numbers_async")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await client.search("US", limit=5)
    (attempt,) = ended
    assert (attempt.cancelled, attempt.status_code, attempt.error) == (True, None, None)
    assert attempt.elapsed >= 0.05
    assert ": cancelled in " in caplog.text


async def test_a_failing_hook_s_frame_keeps_its_locals(make_client: MakeClient) -> None:
    """The error a hook raises passes through the library, which clears its own frames'
    locals on the way out (a failed search's error is freed at once): never the hook's, which
    an error tracker shows."""

    class Quota(Hooks):
        def search_started(self, search: SearchInfo) -> None:
            quota_left = 0
            raise RuntimeError(f"quota {quota_left}")

    client = make_client(lambda request: httpx.Response(200, json=PAGE), hooks=[Quota()])
    with pytest.raises(RuntimeError, match="quota 0") as caught:
        await client.search("US", limit=5)
    tb = caught.value.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_name != "search_started":
        tb = tb.tb_next
    assert tb is not None
    assert tb.tb_frame.f_locals["quota_left"] == 0


async def test_an_exception_of_the_callers_own_client_hook_gets_no_attempt_ended() -> None:
    """The caller's http_client's event hook raising reaches the caller as raised; no
    attempt_ended claims an outcome for it (it got one with no status, no error and not
    cancelled: a tracing span ended looking successful)."""
    ended: list[AttemptInfo] = []

    class Ended(Hooks):
        def attempt_ended(self, attempt: AttemptInfo) -> None:
            ended.append(attempt)

    async def refuse(request: httpx.Request) -> None:
        raise ValueError("the caller's event hook refused it")

    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=PAGE)),
        event_hooks={"request": [refuse]},
    )
    client = NumbersClient(API_KEY, base_url=BASE_URL, http_client=http, hooks=[Ended()])
    async with http, client:
        with pytest.raises(ValueError, match="refused it"):
            await client.search("US", limit=5)
    assert ended == []
