"""Connections are reused at any concurrency, on every engine: a search never opens a
connection its pool could have reused (httpx's default pool opened 492 connections for 1,000
requests at 21 in flight, and 4,982 for 5,000 searches at once)."""

import asyncio
import sys
from typing import cast

import httpcore._async.connection_pool as httpcore_pool
import httpx
import pytest
from helpers import API_KEY, connections_busy, pool_limit
from loopback import LoopbackServer, serve_in_thread

from numbers_async import NumbersClient
from numbers_async import _shards as shards
from numbers_async._aiohttp import AiohttpTransport
from numbers_async._cancel import queued_pool
from numbers_async._shards import ShardedTransport
from numbers_async._transports import Transport

SEARCHES = 300


@pytest.mark.parametrize("in_flight", [21, 250])
async def test_connections_opened_stay_within_the_pool_at_any_concurrency(
    transport: str, in_flight: int
) -> None:
    server = LoopbackServer(latency=(0.05, 0.05))
    async with serve_in_thread(server):
        client = NumbersClient(
            API_KEY, base_url=server.base_url, transport=cast(Transport, transport), timeout=20.0
        )
        async with client:
            slots = asyncio.Semaphore(in_flight)

            async def search() -> int:
                async with slots:
                    return len(await client.search("US", limit=5))

            found = await asyncio.gather(*(search() for _ in range(SEARCHES)))
            engine = client._requester.http._transport
            if isinstance(engine, ShardedTransport):  # each request counted out of its pool
                assert engine.idle == engine.max_connections
                assert sum(map(connections_busy, engine.shards)) == 0
    assert found == [5] * SEARCHES
    assert server.requests == SEARCHES
    assert server.connections <= min(in_flight, pool_limit(transport))


async def test_a_callers_httpx_client_keeps_its_connections_past_20_in_flight() -> None:
    """httpx's default pool keeps 20 of its 100 connections alive: at most 20 requests go into
    it at once, so none is closed on release and reopened."""
    server = LoopbackServer(latency=(0.05, 0.05))
    async with serve_in_thread(server), httpx.AsyncClient() as http:  # noqa: SIM117
        async with NumbersClient(API_KEY, base_url=server.base_url, http_client=http) as client:
            found = await asyncio.gather(*(client.search("US", limit=5) for _ in range(SEARCHES)))
    assert [len(numbers) for numbers in found] == [5] * SEARCHES
    assert server.connections <= 20


@pytest.mark.parametrize(
    ("limits", "slots"),
    [
        (httpx.Limits(max_connections=100, max_keepalive_connections=20), 20),
        (httpx.Limits(max_connections=20, max_keepalive_connections=20), 20),
        (httpx.Limits(max_connections=10, max_keepalive_connections=20), 10),
        (httpx.Limits(max_connections=10, max_keepalive_connections=0), 10),
        (httpx.Limits(max_connections=None, max_keepalive_connections=20), 20),
        (httpx.Limits(max_connections=None, max_keepalive_connections=None), sys.maxsize),
    ],
    ids=["default", "all-kept", "fewer-than-kept", "none-kept", "unbounded", "all-unbounded"],
)
async def test_requests_let_into_a_callers_httpx_pool_are_those_it_keeps_alive(
    limits: httpx.Limits, slots: int
) -> None:
    async with httpx.AsyncClient(limits=limits) as http:
        assert queued_pool(http) == (slots, True)


async def test_the_owned_httpx_pools_never_hand_one_connection_to_two_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpcore 1.0.9 gives a just-assigned, still idle connection to the next request too,
    which then retries inside the pool (one pool of 20: 2,410 retries here; five pools of 20:
    4 a search at 5,000 at once, 170 connections opened for 100): pools of one never do."""
    retries = 0
    clear = httpcore_pool.AsyncPoolRequest.clear_connection

    def counted(pool_request: httpcore_pool.AsyncPoolRequest) -> None:
        nonlocal retries
        retries += 1
        clear(pool_request)

    monkeypatch.setattr(httpcore_pool.AsyncPoolRequest, "clear_connection", counted)
    server = LoopbackServer(latency=(0.02, 0.02))
    async with serve_in_thread(server):  # noqa: SIM117 (base_url is known once it serves)
        async with NumbersClient(API_KEY, base_url=server.base_url, timeout=20.0) as client:
            found = await asyncio.gather(*(client.search("US", limit=5) for _ in range(600)))
    assert [len(numbers) for numbers in found] == [5] * 600
    assert retries == 0
    assert server.connections <= pool_limit("httpx")


@pytest.mark.parametrize("transport", ["httpx", "httpx2", "aiohttp"])
async def test_connections_idle_past_the_keepalive_expiry_close_under_light_traffic(
    transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst opens many connections; one search at a time afterwards needs one: the others
    close once idle past the keep-alive expiry (on the owned httpx and httpx2 pools, all 30 had
    stayed open for good). The expiry is cut to 0.2 s here (the pools' default is 5 s)."""
    monkeypatch.setattr(shards, "SWEEP_EVERY", 0.05)
    server = LoopbackServer(latency=(0.05, 0.05))
    async with serve_in_thread(server):
        client = NumbersClient(
            API_KEY, base_url=server.base_url, transport=cast(Transport, transport)
        )
        async with client:
            engine = client._requester.http._transport
            if isinstance(engine, ShardedTransport):
                engine._expiry = 0.2
            else:  # aiohttp's connector (built at the first search) closes them on a timer
                assert isinstance(engine, AiohttpTransport)
                engine.limits = httpx.Limits(max_connections=100, keepalive_expiry=0.2)
            await asyncio.gather(*(client.search("US", limit=5) for _ in range(30)))
            assert server.open_connections == 30
            for _ in range(12):
                await client.search("US", limit=5)
                await asyncio.sleep(0.05)
            assert server.open_connections <= 3  # the one in use, and aiohttp's next cleanup
