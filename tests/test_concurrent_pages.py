"""Large searches fetch pages concurrently, bounded, sized to what is missing, in order."""

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import httpx2
import pytest
from helpers import API_KEY, ENGINES, engine_client, numbers_body, options_client, until
from loopback import LoopbackServer, serve

from numbers_async import APITimeoutError, NumbersClient, ProviderError, SearchInfo, Timeouts
from numbers_async._pagination import PAGE_MAX

MakeClient = Callable[..., NumbersClient]


class SlowServer:
    """Serves distinct numbers after a per-request delay; records sizes and peak concurrency."""

    def __init__(self, delay: Callable[[int], float] = lambda index: 0.005) -> None:
        self.delay = delay
        self.limits: list[int] = []
        self.in_flight = 0
        self.peak = 0
        self.finished = 0
        self.short_after: int | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        index = len(self.limits)
        size = int(request.url.params["limit"])
        self.limits.append(size)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay(index))
        finally:
            self.in_flight -= 1
        self.finished += 1
        if self.short_after is not None and index >= self.short_after:
            # 3 numbers, 2 of them the first page's: mostly seen, as a spent inventory gives
            phones = [f"+10000{n:06d}" for n in range(2)] + [f"+1{index:04d}000000"]
            return httpx.Response(200, json=numbers_body(phones))
        return httpx.Response(
            200, json=numbers_body([f"+1{index:04d}{n:06d}" for n in range(size)])
        )


@pytest.mark.parametrize("concurrency", [1, 3, 5, 8])
async def test_in_flight_pages_are_bounded_and_never_ask_past_the_total(
    make_client: MakeClient, concurrency: int
) -> None:
    """limit=1000 keeps at most page_concurrency requests in flight and asks exactly 1000."""
    server = SlowServer()
    client = make_client(server, page_concurrency=concurrency)
    numbers = await client.search("US", limit=1000)
    assert len(numbers) == 1000
    assert server.peak == concurrency
    assert sum(server.limits) == 1000
    assert len(server.limits) == 1000 // PAGE_MAX


async def test_result_keeps_request_order_when_pages_finish_out_of_order(
    make_client: MakeClient,
) -> None:
    """Later pages finishing first do not reorder the result: request order is kept."""
    server = SlowServer(delay=lambda index: 0.02 if index % 2 else 0.001)
    numbers = await make_client(server, page_concurrency=5).search("US", limit=400)
    prefixes = [n.phone_number[2:6] for n in numbers]
    assert prefixes == sorted(prefixes)
    assert len(numbers) == 400


async def test_short_pages_stop_and_cancel_pages_in_flight(make_client: MakeClient) -> None:
    """Two short pages in a row of numbers mostly seen end the search; later pages in flight
    are cancelled, their numbers unused."""
    server = SlowServer(delay=lambda index: 0.001 if index < 4 else 0.5)
    server.short_after = 2
    numbers = await make_client(server, page_concurrency=5).search("US", limit=1000)
    assert len(numbers) == PAGE_MAX + PAGE_MAX + 1 + 1
    assert numbers.stop_reason == "short_page"
    assert server.in_flight == 0  # the slow requests were cancelled, not awaited
    assert server.finished == 4


async def test_failed_page_cancels_the_others_and_carries_partial_numbers(
    make_client: MakeClient,
) -> None:
    """A page failing for good raises with the pages before it; the ones after it, still in
    flight, are cancelled, not awaited."""
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        index = calls
        if index == 3:
            return httpx.Response(502)
        await asyncio.sleep(0.001 if index < 3 else 10.0)
        return httpx.Response(
            200, json=numbers_body([f"+1{index:04d}{n:06d}" for n in range(PAGE_MAX)])
        )

    client = make_client(handler, page_concurrency=5, max_retries=0)
    with pytest.raises(ProviderError) as caught:
        await asyncio.wait_for(client.search("US", limit=1000), 5)
    assert len(caught.value.partial_numbers) == 100


async def test_iter_search_reads_at_most_one_page_ahead(make_client: MakeClient) -> None:
    """While the caller holds a page, at most one more request has been made."""
    server = SlowServer(delay=lambda index: 0.0)
    stream = make_client(server, page_concurrency=5).iter_search("US", limit=1000)
    seen = 0
    async for _ in stream:
        seen += 1
        if seen % PAGE_MAX == 0:
            await asyncio.sleep(0.01)  # a slow consumer: requests could race ahead
            assert len(server.limits) <= seen // PAGE_MAX + 1
        if seen == 200:
            break
    assert len(server.limits) <= 5
    await stream.aclose()
    assert server.in_flight == 0


async def test_cancelling_a_concurrent_search_cancels_every_page(make_client: MakeClient) -> None:
    """Cancelling the caller's task cancels all of its requests in flight."""
    server = SlowServer(delay=lambda index: 0.001 if index == 0 else 5.0)
    task = asyncio.create_task(make_client(server, page_concurrency=5).search("US", limit=1000))
    assert await until(lambda: server.in_flight == 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert server.in_flight == 0


@pytest.mark.parametrize("engine", ENGINES)
async def test_page_concurrency_beyond_the_pool_is_held_to_its_connections(engine: str) -> None:
    """One search asking three times the pool's connections in pages at once: the pages beyond
    them would each queue for a connection past the pool timeout (with no retry, the search
    failed itself with APITimeoutError); held to the pool's connections, it gets every number."""
    async with serve(LoopbackServer(latency=(0.2, 0.2))) as server:
        async with engine_client(
            engine, server.base_url, timeout=Timeouts(connect=5, read=5, pool=0.3), max_retries=0
        ) as client:
            connections = client._requester.connections
            wide = client.with_options(page_concurrency=3 * connections)
            async with asyncio.timeout(10):
                numbers = await wide.search("US", limit=3 * connections * PAGE_MAX)
        await options_client(client).aclose()
    assert len(numbers) == 3 * connections * PAGE_MAX
    assert server.peak_connections <= connections


@pytest.mark.parametrize("kind", ["httpx", "httpx2"])
async def test_page_concurrency_beyond_a_callers_small_pool_is_held_to_it(kind: str) -> None:
    """A caller's client of 2 connections: a search asking 10 pages at once gets every number
    (on httpx2 the pool was not read: taken for 100 connections, the search failed itself
    with PoolTimeout)."""
    module: Any = httpx2 if kind == "httpx2" else httpx
    http = module.AsyncClient(limits=module.Limits(max_connections=2, max_keepalive_connections=2))
    async with serve(LoopbackServer(latency=(0.2, 0.2))) as server:
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            http_client=http,
            timeout=Timeouts(connect=5, read=5, pool=0.3),
            max_retries=0,
            page_concurrency=10,
        )
        async with client, asyncio.timeout(10):
            assert client._requester.connections == 2
            assert len(await client.search("US", limit=550)) == 550
    await http.aclose()


async def test_a_failed_search_carries_the_pages_received_after_the_failed_one(
    make_client: MakeClient,
) -> None:
    """The second page stalls past the deadline while the four after it arrive: the error
    carries all five received pages' numbers, in request order (it carried the first page's
    50 only: the 200 received after the stalled one were dropped)."""
    server = SlowServer(delay=lambda index: 10.0 if index == 1 else 0.001)
    finished: list[SearchInfo] = []
    hook = SimpleNamespace(search_finished=finished.append)
    client = make_client(server, page_concurrency=5, deadline=0.5, hooks=[hook])
    with pytest.raises(APITimeoutError) as caught:
        await client.search("US", limit=300)
    prefixes = [number.phone_number[2:6] for number in caught.value.partial_numbers]
    assert prefixes == ["0000"] * 50 + [f"{index:04d}" for index in (2, 3, 4, 5) for _ in range(50)]
    assert finished[0].returned == 250  # what the hooks see the caller got


async def test_a_failed_stream_carries_only_the_pages_it_never_yielded(
    make_client: MakeClient,
) -> None:
    """The same stall in an iter_search reading 5 pages ahead: the reader has the first page;
    the error carries the four received after the stalled one, which it never yielded."""
    server = SlowServer(delay=lambda index: 10.0 if index == 1 else 0.001)
    client = make_client(server, deadline=0.5)
    read: list[str] = []

    async def read_all() -> None:
        async for number in client.iter_search("US", limit=300, page_concurrency=5):
            read.append(number.phone_number[2:6])

    with pytest.raises(APITimeoutError) as caught:
        await read_all()
    assert read == ["0000"] * 50
    prefixes = [number.phone_number[2:6] for number in caught.value.partial_numbers]
    assert prefixes == [f"{index:04d}" for index in (2, 3, 4, 5) for _ in range(50)]
