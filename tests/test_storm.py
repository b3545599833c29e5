"""A cancellation storm leaks no connection, on every engine: the owned pool on each transport
and a caller's own client, against a server on the test's loop and on a thread of its own."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from helpers import (
    ENGINES,
    STORM_POOL_LIMIT,
    connections_in_use,
    engine_client,
    options_client,
    storm_then_search,
    until,
)
from loopback import LoopbackServer, serve, serve_in_thread

from numbers_async import _cancel

Serve = Callable[[LoopbackServer], AbstractAsyncContextManager[LoopbackServer]]
SERVERS: dict[str, Serve] = {"same-loop": serve, "own-thread": serve_in_thread}


@pytest.fixture(params=["same-loop", pytest.param("own-thread", marks=pytest.mark.slow)])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[LoopbackServer]:
    """A server answering in 0-30 ms, on the test's loop or on a thread of its own."""
    async with SERVERS[request.param](LoopbackServer(latency=(0, 0.03), seed=7)) as running:
        yield running


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_cancellation_storm_leaks_no_connection(
    server: LoopbackServer, engine: str
) -> None:
    """After 600 cancelled searches, 200 searches all succeed; nothing stays busy or running;
    the server never sees more connections than the pool's limit."""
    client = engine_client(engine, server.base_url, timeout=10.0)
    async with client:
        failures = await storm_then_search(client)
    await options_client(client).aclose()  # a caller's client is the caller's to close
    assert failures == []
    assert server.peak_connections <= STORM_POOL_LIMIT
    assert await until(lambda: server.open_connections == 0)
    leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert [task for task in leftover if task not in server.handlers] == []


@pytest.mark.parametrize("engine", ["httpx", "caller-httpx"])
@pytest.mark.parametrize("moment", ["receive_response_body.complete", "response_closed.started"])
async def test_a_caller_cancelled_while_its_response_closes_leaks_no_connection(
    engine: str, moment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller is cancelled just as httpcore 1.x closes its attempt's response (its body
    read): the detached attempt must not be cancelled then, as a cancellation inside httpcore's
    close leaves the connection busy and its request in the pool for good (a storm of
    ``asyncio.timeout`` of 0-0.3 s left 9-16 such connections)."""
    caller: list[asyncio.Task[object]] = []
    fired: list[str] = []
    trace = _cancel._Detached.trace

    async def cancelling_trace(attempt: _cancel._Detached, name: str, info: dict[str, Any]) -> None:
        await trace(attempt, name, info)
        if name == f"http11.{moment}" and not fired:
            fired.append(name)
            caller[0].cancel()

    monkeypatch.setattr(_cancel._Detached, "trace", cancelling_trace)
    async with serve(LoopbackServer()) as server:
        client = engine_client(engine, server.base_url, timeout=5.0)
        async with client:
            caller.append(asyncio.create_task(client.search("US", limit=1)))
            with pytest.raises(asyncio.CancelledError):
                await caller[0]
            assert fired == [f"http11.{moment}"]
            assert await until(lambda: connections_in_use(client) == 0, within=2.0)
            assert len(await asyncio.wait_for(client.search("US", limit=1), 5)) == 1
        await options_client(client).aclose()


@pytest.mark.parametrize("engine", ["httpx", "caller-httpx"])
async def test_the_attempt_limit_passing_as_a_response_closes_leaks_no_connection(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attempt's time limit passes while its response closes (here: the close waits
    0.4 s, past the 0.3 s limit): the response is closed outside the limit, so the limit
    cannot fire inside httpcore 1.x's close, where it left the connection busy for good (1 in
    10-17 attempts the limit ended, on a loaded loop); the search keeps its page."""
    held: list[str] = []
    trace = _cancel._Detached.trace

    async def holding_trace(attempt: _cancel._Detached, name: str, info: dict[str, Any]) -> None:
        await trace(attempt, name, info)
        if name == "http11.response_closed.started" and not held:
            held.append(name)
            await asyncio.sleep(0.4)

    monkeypatch.setattr(_cancel._Detached, "trace", holding_trace)
    async with serve(LoopbackServer()) as server:
        client = engine_client(engine, server.base_url, timeout=0.3, max_retries=0)
        async with client:
            assert len(await client.search("US", limit=1)) == 1
            assert held == ["http11.response_closed.started"]
            assert await until(lambda: connections_in_use(client) == 0, within=2.0)
        await options_client(client).aclose()
