"""deadline: a whole search (pages, attempts, backoff) ends by then, and a wait that would pass
it is not slept."""

import asyncio
import time
from collections.abc import Callable
from typing import cast

import httpx
import pytest
from helpers import (
    engine_client,
    loop_clock,
    numbers_body,
    options_client,
    seed_error,
    since,
    until,
)
from loopback import LoopbackServer, serve

from numbers_async import (
    APITimeoutError,
    NumbersClient,
    ProviderError,
    RetryPolicy,
    UnexpectedStatusError,
)
from numbers_async._transports import Transport

MakeClient = Callable[..., NumbersClient]


async def slow_pages(request: httpx.Request) -> httpx.Response:
    """Full pages of new numbers, 50 ms each."""
    await asyncio.sleep(0.05)
    start = int(time.perf_counter_ns() % 10**9)
    size = int(request.url.params["limit"])
    return httpx.Response(200, json=numbers_body([f"+1{start + n:010d}" for n in range(size)]))


@pytest.mark.parametrize("page_concurrency", [1, 3])
async def test_deadline_over_many_pages_keeps_the_numbers_found(
    make_client: MakeClient, page_concurrency: int
) -> None:
    """A 5,000-number search of 50 ms pages with a 0.3 s deadline ends at it, with what it
    found so far as partial_numbers."""
    client = make_client(slow_pages, deadline=0.3, page_concurrency=page_concurrency)
    started = loop_clock()
    with pytest.raises(APITimeoutError, match=r"deadline \(0.3 s\) passed") as caught:
        await client.search("US", limit=5000)
    elapsed = since(started)
    assert 0.3 <= elapsed < 0.6
    assert 50 <= len(caught.value.partial_numbers) < 5000


async def test_deadline_over_iter_search(make_client: MakeClient) -> None:
    """iter_search() too: its stream raises APITimeoutError once the deadline passes."""
    client = make_client(slow_pages, deadline=0.3)
    seen: list[object] = []

    async def consume() -> None:
        async for number in client.iter_search("US", limit=5000):
            seen.append(number)

    with pytest.raises(APITimeoutError):
        await consume()
    assert 50 <= len(seen) < 5000


async def test_deadline_over_retries_refuses_a_backoff_past_it(make_client: MakeClient) -> None:
    """Backoffs that would end past the deadline are not slept: the 502 is raised when the
    next wait no longer fits, well before max_retries."""
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.perf_counter())
        return httpx.Response(502)

    client = make_client(
        handler,
        deadline=0.5,
        max_retries=20,
        # Jitter at its top: waits of ~0.1, 0.2, then 0.4 s, refused after the attempt at
        # ~0.3 s. Drawn waits let an attempt start a few ms before the deadline, which then
        # ended it (an APITimeoutError) on a loaded machine.
        retry_policy=RetryPolicy(initial_delay=0.1, max_delay=1.0, random=lambda: 0.999),
    )
    started = time.perf_counter()
    with pytest.raises(ProviderError) as caught:
        await client.search("US")
    elapsed = time.perf_counter() - started
    # Every attempt starts before the deadline; the refusal follows the last one at once
    # (a wait past the deadline would end in APITimeoutError at 0.5 s, not this 502).
    assert sent[-1] - started < 0.5
    assert elapsed < 0.5 + 0.25
    assert len(sent) == 3
    (note,) = caught.value.__notes__
    assert "would pass the deadline" in note


async def test_a_deadline_error_notes_how_the_attempt_before_it_failed(
    make_client: MakeClient,
) -> None:
    """Two 502s, then an attempt stalled past the deadline: its error notes the 502 before it,
    tracking id and all (it said only "passed after 3 attempt(s) of a page")."""
    answers = iter([502, 502])

    async def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers, None)
        if status is None:
            await asyncio.sleep(10)
        return httpx.Response(502, json=seed_error(tracking_id="trk_before"))

    client = make_client(
        handler, deadline=0.5, retry_policy=RetryPolicy(initial_delay=0.01, max_delay=0.01)
    )
    with pytest.raises(APITimeoutError, match="passed after 3 attempt") as caught:
        await client.search("US")
    (note,) = caught.value.__notes__
    assert note.startswith("numbers-async: the attempt before it failed with ProviderError: 502")
    assert "trk_before" in note


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"deadline": 5.0}, "would pass the deadline"),
        ({}, "is above retry_after_max 60 s"),
    ],
)
async def test_a_long_retry_after_fails_at_once(
    make_client: MakeClient, options: dict[str, float], why: str
) -> None:
    """A 503 asking for 30 s with a 5 s deadline, or 3600 s without one: raised at once (well
    under the 1 s bound, which leaves room for a loaded machine), carrying its Retry-After."""
    asked = "30" if options else "3600"
    client = make_client(
        lambda request: httpx.Response(503, headers={"Retry-After": asked}),
        retry_policy=RetryPolicy(),  # real sleeping: a wait would show in the time taken
        **options,
    )
    started = time.perf_counter()
    with pytest.raises(UnexpectedStatusError) as caught:
        await client.search("US")
    assert time.perf_counter() - started < 1.0
    assert caught.value.retry_after == float(asked)
    assert why in caught.value.__notes__[0]


async def test_deadline_cuts_a_stalled_request_on_both_transports(transport: str) -> None:
    """A request the server never answers ends at the deadline, not at the 30 s timeout."""
    async with (
        serve(LoopbackServer(default="stall")) as server,
        NumbersClient(
            "sk_deadline",
            base_url=server.base_url,
            transport=cast(Transport, transport),
            timeout=30,
            deadline=0.5,  # room for the request to reach the server on a loaded machine
        ) as client,
    ):
        started = loop_clock()
        with pytest.raises(APITimeoutError) as caught:
            await client.search("US")
        elapsed = since(started)
    assert 0.5 <= elapsed < 2.0
    assert caught.value.attempts == 1
    assert "deadline (0.5 s) passed" in str(caught.value)
    assert not hasattr(caught.value, "__notes__")  # its message already says why
    assert server.requests == 1


async def test_the_deadline_is_per_search_not_per_client(make_client: MakeClient) -> None:
    """Each search gets the whole deadline, however long the client has lived."""
    client = make_client(slow_pages, deadline=0.3)
    for _ in range(3):
        assert len(await client.search("US", limit=50)) == 50
        await asyncio.sleep(0.15)


@pytest.mark.parametrize("engine", ["httpx", "httpx2", "aiohttp", "caller-httpx"])
async def test_a_deadline_passing_while_a_page_waits_for_a_connection_counts_nothing_sent(
    engine: str,
) -> None:
    """Every connection held by stalled searches: an iter_search's page waits for one until its
    deadline; the error says it was never sent and the stream counts no request (it said
    "after 1 attempt(s)" and counted one, though the server received none)."""
    async with serve(LoopbackServer(default="stall")) as server:
        client = engine_client(engine, server.base_url, timeout=30)
        slots = client._requester.connections
        holders = [asyncio.create_task(client.search("US")) for _ in range(slots)]
        assert await until(lambda: server.requests == slots)
        stream = client.with_options(deadline=0.3).iter_search("US")
        with pytest.raises(APITimeoutError, match="never sent") as caught:
            await anext(stream)
        assert caught.value.attempts == 0
        assert stream.requests == 0
        assert server.requests == slots
        for holder in holders:
            holder.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
        await client.aclose()
        await options_client(client).aclose()
