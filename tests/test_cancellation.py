"""Cancellation and deadlines over real loopback sockets, on both transports: a cancelled search
stops at once, a deadline ends it on time, closing the client ends the searches it runs."""

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from typing import Any, cast

import httpx
import pytest
from helpers import (
    API_KEY,
    ENGINES,
    connections_in_use,
    engine_client,
    loop_clock,
    options_client,
    other_tasks,
    pool_limit,
    since,
    until,
)
from loopback import LoopbackServer, serve
from numbers_api.spec_facts import PAGE_MAX

from numbers_async import ClientClosedError, NumbersClient, Timeouts
from numbers_async._transports import Transport

CANCEL_BUDGET = 0.1  # seconds from cancel() to CancelledError in the caller
DEADLINE = 0.2  # seconds of the asyncio.timeout() around a search
OVERRUN = 0.3  # seconds past DEADLINE a loaded machine may take; a hang would take the 30 s timeout
CLOSE_BUDGET = 1.0  # seconds from aclose() to every search ended (it closes 100 connections:
# 40-90 ms alone, 0.56-0.65 s beside the heaviest tests on 3 workers; a hang takes the 30 s timeout)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything logged at DEBUG; the test fails if anything was logged at ERROR or above."""
    for name in (None, "numbers_async", "httpx", "httpcore", "aiohttp", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


@pytest.fixture
async def stalled() -> AsyncIterator[LoopbackServer]:
    """A server that reads requests and never answers them."""
    async with serve(LoopbackServer(default="stall")) as server:
        yield server


def client_for(server: LoopbackServer, transport: str, **options: Any) -> NumbersClient:
    options.setdefault("timeout", 30.0)
    return NumbersClient(
        API_KEY, base_url=server.base_url, transport=cast(Transport, transport), **options
    )


def report(case: str, seconds: float) -> None:
    """Print the measured time (visible with ``pytest -s``)."""
    print(f"\n{case}: {seconds * 1000:.1f} ms")


async def cancel_and_time(task: asyncio.Task[Any]) -> float:
    """Cancel ``task`` and return the seconds until its CancelledError reached the caller."""
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return time.perf_counter() - started


async def test_cancel_while_the_request_is_in_flight(
    stalled: LoopbackServer, transport: str, logs: pytest.LogCaptureFixture
) -> None:
    """Cancelled mid-request: CancelledError within 100 ms, no other request, socket closed."""
    async with client_for(stalled, transport) as client:
        task = asyncio.create_task(client.search("US"))
        assert await until(lambda: stalled.requests == 1)  # the client now waits for the answer
        elapsed = await cancel_and_time(task)
        assert (
            other_tasks(besides=stalled.handlers) == []
        )  # nothing left that could send another request
        assert await until(lambda: stalled.open_connections == 0)  # before the pool closes
        assert stalled.requests == client.requests_sent == 1
    report(f"in flight [{transport}]", elapsed)
    assert elapsed < CANCEL_BUDGET


async def test_cancel_during_a_five_second_backoff(
    transport: str, logs: pytest.LogCaptureFixture
) -> None:
    """Cancelled while waiting 5 s (Retry-After) to retry: at once, and no retry is sent."""
    server = LoopbackServer(["502"], error_headers=[("retry-after", b"5")])
    async with serve(server), client_for(server, transport, max_retries=3) as client:
        task = asyncio.create_task(client.search("US"))
        assert await until(lambda: "retrying in 5.000 s" in logs.text)
        elapsed = await cancel_and_time(task)
        assert other_tasks(besides=server.handlers) == []
        assert server.requests == client.requests_sent == 1
    report(f"in backoff [{transport}]", elapsed)
    assert elapsed < CANCEL_BUDGET


async def test_a_deadline_around_a_search_ends_it_on_time(
    stalled: LoopbackServer, transport: str, logs: pytest.LogCaptureFixture
) -> None:
    """asyncio.timeout(0.2) around a search on a stalled server raises TimeoutError on time."""
    async with client_for(stalled, transport) as client:
        started = loop_clock()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(DEADLINE):
                await client.search("US")
        elapsed = since(started)
        assert await until(lambda: stalled.open_connections == 0)
        assert stalled.requests == 1
    report(f"asyncio.timeout({DEADLINE}) [{transport}]", elapsed)
    assert DEADLINE <= elapsed < DEADLINE + OVERRUN


@pytest.mark.parametrize("searches", [5, 150], ids=["5-searches", "more-than-the-pool"])
async def test_closing_the_client_ends_the_searches_it_runs(
    stalled: LoopbackServer, transport: str, searches: int, logs: pytest.LogCaptureFixture
) -> None:
    """aclose() while searches wait on a stalled server: each raises ClientClosedError promptly."""
    client = client_for(stalled, transport)
    tasks = [asyncio.create_task(client.search("US")) for _ in range(searches)]
    assert await until(lambda: stalled.requests == min(searches, pool_limit(transport)))
    started = time.perf_counter()
    await client.aclose()
    async with asyncio.timeout(2):
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - started
    report(f"aclose, {searches} in flight [{transport}]", elapsed)
    assert [type(outcome) for outcome in outcomes] == [ClientClosedError] * searches
    assert "closed" in str(outcomes[0])
    assert elapsed < CLOSE_BUDGET
    assert await until(lambda: stalled.open_connections == 0)
    assert stalled.requests == min(searches, pool_limit(transport))


async def test_a_cancelled_aclose_still_closes_the_pool(
    stalled: LoopbackServer, transport: str
) -> None:
    """aclose() cancelled while it waits for the searches it ended (a TaskGroup cancels it as
    their ClientClosedError comes; wait_for around it): the pool closes all the same (it stayed
    open, its keep-alive connections with it, aiohttp warning of an unclosed session)."""
    client = client_for(stalled, transport)
    tasks = [asyncio.create_task(client.search("US")) for _ in range(3)]
    assert await until(lambda: stalled.requests == 3)
    closer = asyncio.create_task(client.aclose())
    await asyncio.sleep(0)  # aclose() has ended the searches and waits for them to leave
    closer.cancel()
    outcomes = await asyncio.gather(closer, *tasks, return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [asyncio.CancelledError] + [
        ClientClosedError
    ] * 3
    assert client._requester.http.is_closed
    assert await until(lambda: stalled.open_connections == 0)


async def test_closing_the_client_ends_a_search_waiting_to_retry(
    transport: str, logs: pytest.LogCaptureFixture
) -> None:
    """aclose() during a 5 s backoff: the search raises ClientClosedError at once, no retry."""
    server = LoopbackServer(["502"], error_headers=[("retry-after", b"5")])
    async with serve(server):
        client = client_for(server, transport, max_retries=3)
        task = asyncio.create_task(client.search("US"))
        assert await until(lambda: "retrying in 5.000 s" in logs.text)
        started = time.perf_counter()
        await client.aclose()
        with pytest.raises(ClientClosedError):
            async with asyncio.timeout(2):
                await task
        elapsed = time.perf_counter() - started
    report(f"aclose in backoff [{transport}]", elapsed)
    assert elapsed < CANCEL_BUDGET
    assert server.requests == client.requests_sent == 1


async def test_closing_ends_concurrent_page_requests_keeping_the_first_page(
    transport: str, logs: pytest.LogCaptureFixture
) -> None:
    """aclose() while five page requests stall: ClientClosedError carrying the first page."""
    async with serve(LoopbackServer(["ok"], default="stall")) as server:
        client = client_for(server, transport)
        task = asyncio.create_task(
            client.search("US", limit=(1 + client.page_concurrency) * PAGE_MAX)
        )
        # the first page alone, then page_concurrency requests at once
        assert await until(lambda: server.requests == 1 + client.page_concurrency)
        await client.aclose()
        with pytest.raises(ClientClosedError) as caught:
            async with asyncio.timeout(1):
                await task
        assert len(caught.value.partial_numbers) == PAGE_MAX
        assert await until(lambda: server.open_connections == 0)


async def test_a_caller_cancelling_as_the_client_closes_still_gets_cancelled_error(
    stalled: LoopbackServer, transport: str, logs: pytest.LogCaptureFixture
) -> None:
    """cancel() then aclose(): the caller's cancellation wins; it is never turned into an error."""
    client = client_for(stalled, transport)
    task = asyncio.create_task(client.search("US"))
    assert await until(lambda: stalled.requests == 1)
    task.cancel()
    await client.aclose()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


@pytest.mark.parametrize("engine", ENGINES)
async def test_closing_a_derived_client_waits_for_none_of_the_original_s_attempts(
    stalled: LoopbackServer, engine: str
) -> None:
    """A derived client with no search of its own closes at once, while a search of the
    original client waits on a stalled server (it waited for that attempt's 5 s timeout)."""
    client = engine_client(engine, stalled.base_url, timeout=5.0, max_retries=0)
    search = asyncio.create_task(client.search("US"))
    assert await until(lambda: stalled.requests == 1)
    started = time.perf_counter()
    await client.with_options(deadline=1.0).aclose()
    assert time.perf_counter() - started < CLOSE_BUDGET
    assert not search.done()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await search
    await options_client(client).aclose()


@contextmanager
def unanswered_connects() -> Iterator[str]:
    """The base URL of a listener whose accept queue is full: connecting to it hangs."""
    listener = socket.socket()
    fillers = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):  # the queue's few places, then SYNs are dropped
            filler = socket.socket()
            fillers.append(filler)
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.parametrize("engine", ENGINES)
async def test_closing_ends_a_search_whose_connection_is_being_made(engine: str) -> None:
    """aclose() while the only attempt is still connecting (a connect timeout of 8 s): the
    search ends with ClientClosedError and aclose() returns at once, no task left behind (a
    caller's httpx client waited out the connect timeout: the attempt, detached from its
    caller, was cancelled only once on its connection)."""
    with unanswered_connects() as base_url:
        timeout = Timeouts(connect=8.0, read=8.0, pool=8.0)
        client = engine_client(engine, base_url, timeout=timeout, max_retries=0)
        search = asyncio.create_task(client.search("US"))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        await client.aclose()
        assert time.perf_counter() - started < CLOSE_BUDGET
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(search, CLOSE_BUDGET)
        if engine.startswith("caller-"):  # the caller's pool lives on: nothing of ours in it
            assert connections_in_use(client) == 0
        await options_client(client).aclose()
    assert other_tasks() == []


@pytest.mark.parametrize("engine", ENGINES)
async def test_closing_ends_a_search_whose_tls_handshake_stalls(engine: str) -> None:
    """aclose() while the only attempt waits for a TLS handshake the server never answers (a
    connect timeout of 8 s): aclose() returns at once and the search ends with
    ClientClosedError (the attempt, detached from its caller, waited out the timeout)."""
    async with serve(LoopbackServer(["stall"])) as server:
        base_url = server.base_url.replace("http://", "https://")
        timeout = Timeouts(connect=8.0, read=8.0, pool=8.0)
        client = engine_client(engine, base_url, timeout=timeout, max_retries=0)
        search = asyncio.create_task(client.search("US"))
        await asyncio.sleep(0.3)
        assert server.connections == 1  # the TCP connection is made: the handshake waits
        started = time.perf_counter()
        await client.aclose()
        assert time.perf_counter() - started < CLOSE_BUDGET
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(search, CLOSE_BUDGET)
        await options_client(client).aclose()
    assert other_tasks() == []


@pytest.mark.parametrize("engine", ENGINES)
async def test_searches_cancelled_in_a_stalled_tls_handshake_leave_no_socket_open(
    engine: str,
) -> None:
    """Callers timing out while the handshake stalls: once their searches end, the server sees
    every connection closed (on a caller's httpx or httpx2 client the sockets stayed open until
    a garbage collection)."""
    async with serve(LoopbackServer(["stall"] * 5)) as server:
        base_url = server.base_url.replace("http://", "https://")
        timeout = Timeouts(connect=8.0, read=8.0, pool=8.0)
        client = engine_client(engine, base_url, timeout=timeout, max_retries=0)
        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await client.search("US")
        await asyncio.sleep(0.2)
        assert server.connections == 3
        assert server.open_connections == 0
        await client.aclose()
        await options_client(client).aclose()
    assert other_tasks() == []


async def test_searches_cancelled_in_a_stalled_handshake_through_a_proxy_leave_no_socket_open() -> (
    None
):
    """The same through a caller's httpx client with an HTTP proxy: the tunnel opens, its TLS
    handshake stalls, callers time out; the proxy sees each connection closed (they stayed
    open until aclose())."""
    connections = {"opened": 0, "open": 0}

    async def tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections["opened"] += 1
        connections["open"] += 1
        try:
            await reader.readuntil(b"\r\n\r\n")  # CONNECT
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await reader.read()  # the ClientHello, never answered: until the client closes
        finally:
            connections["open"] -= 1
            writer.close()

    proxy = await asyncio.start_server(tunnel, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    http = httpx.AsyncClient(proxy=f"http://127.0.0.1:{port}")
    timeout = Timeouts(connect=8.0, read=8.0, pool=8.0)
    client = NumbersClient(
        API_KEY, base_url="https://127.0.0.1:9", http_client=http, timeout=timeout, max_retries=0
    )
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.search("US")
    await asyncio.sleep(0.2)
    assert connections == {"opened": 3, "open": 0}
    await client.aclose()
    await http.aclose()
    proxy.close()
    await proxy.wait_closed()
    assert other_tasks() == []
