"""Fakes shared by the tests: seed-shaped bodies and a recording sleep."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Collection
from contextlib import suppress
from typing import Any

import httpx
import httpx2

from numbers_async import NumbersClient
from numbers_async._httpx2 import CallerHttpx2Client, Httpcore2Transport, Httpx2Transport
from numbers_async._shards import ShardedTransport
from numbers_async._transports import POOL_LIMITS

BASE_URL = "http://numbers.test"
API_KEY = "sk_test_s3cr3t_KEY_value"

Handler = Callable[[httpx.Request], httpx.Response]


def numbers_body(phone_numbers: list[str]) -> dict[str, Any]:
    """A 200 body holding these phone numbers."""
    return {"numbers": [{"phoneNumber": number} for number in phone_numbers]}


def seed_error(
    code: str = "provider_error", tracking_id: str = "trk_1", **extra: str
) -> dict[str, Any]:
    """An error body of the seed's shape."""
    return {"trackingId": tracking_id, "error": {"code": code, "message": "it failed", **extra}}


class SleepRecorder:
    """Stands in for asyncio.sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def other_tasks(besides: Collection[asyncio.Task[Any]] = ()) -> list[asyncio.Task[Any]]:
    """The running loop's tasks but the current one and ``besides`` (a test server's own): what
    could still send a request. None left proves "nothing more is sent" without sleeping to see.
    """
    skip = {asyncio.current_task(), *besides}
    return [task for task in asyncio.all_tasks() if task not in skip]


async def until(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Wait until ``condition()`` holds or ``within`` seconds pass; returns whether it held."""
    # Generous for a loaded machine: a condition that holds ends the wait at once.
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.005)
    return True


def connections_in_use(client: NumbersClient) -> int:
    """Connections the client's pool holds that are not idle (a leak when no search runs)."""
    pool: Any = client._requester.http._transport
    if isinstance(pool, ShardedTransport):
        return sum(connections_busy(shard) for shard in pool.shards)
    if isinstance(pool, Httpx2Transport):  # a caller's httpx2.AsyncClient
        pool = pool.client._transport
    return connections_busy(pool)


def connections_busy(pool: Any) -> int:
    """Connections of one engine's pool that are not idle."""
    if isinstance(pool, Httpcore2Transport):
        return sum(not connection.is_idle() for connection in pool.pool.connections)
    if isinstance(pool, (httpx.AsyncHTTPTransport, httpx2.AsyncHTTPTransport)):
        return sum(not connection.is_idle() for connection in pool._pool.connections)
    return len(pool.client.connector._acquired)


def pool_limit(transport: str) -> int:
    """The requests a client's owned pool on ``transport`` has in flight at most, each on a
    connection it keeps alive."""
    assert transport in ("httpx", "httpx2", "aiohttp")
    return POOL_LIMITS.max_keepalive_connections or 0


# Every engine: an owned pool on each transport, and a caller's own client of either httpx.
ENGINES = ["httpx", "httpx2", "aiohttp", "caller-httpx", "caller-httpx2"]


def engine_client(engine: str, base_url: str, **options: Any) -> NumbersClient:
    """A client on ``engine`` (one of ENGINES) for the server at ``base_url``."""
    if engine == "caller-httpx":
        options["http_client"] = httpx.AsyncClient()
    elif engine == "caller-httpx2":
        options["http_client"] = httpx2.AsyncClient()
    else:
        options["transport"] = engine
    return NumbersClient(API_KEY, base_url=base_url, **options)


def options_client(client: NumbersClient) -> httpx.AsyncClient | httpx2.AsyncClient:
    """The AsyncClient the caller passed (or the owned one)."""
    http = client._requester.http
    return http.caller_client if isinstance(http, CallerHttpx2Client) else http


# A cancellation storm (test_storm.py, test_proxy.py): 600 searches, 300 at a time, each
# cancelled after 0-50 ms by a server answering in 0-30 ms: before the fix this left all 100
# connections of the default pool busy for good (the storm itself then took 20-40 s); with
# it, about 2 s. Then AFTER searches must all succeed.
STORM = 600
STORM_IN_FLIGHT = 300
AFTER = 200
STORM_POOL_LIMIT = 100  # the largest pool of any engine, a caller's httpx clients' included


async def storm(client: NumbersClient, seed: int) -> None:
    """STORM searches, each cancelled by asyncio.wait_for after 0-50 ms."""
    delays = random.Random(seed)
    gate = asyncio.Semaphore(STORM_IN_FLIGHT)

    async def cancelled(index: int) -> None:
        async with gate:
            with suppress(TimeoutError):
                await asyncio.wait_for(client.search("US", limit=1), delays.uniform(0, 0.05))

    await asyncio.gather(*(cancelled(index) for index in range(STORM)))


async def storm_then_search(client: NumbersClient) -> list[BaseException]:
    """The storm, then (once the client has no connection in use) AFTER searches at once:
    their failures."""
    async with asyncio.timeout(20):
        await storm(client, seed=3)
    assert await until(lambda: connections_in_use(client) == 0)
    async with asyncio.timeout(10):
        results = await asyncio.gather(
            *(client.search("US", limit=1) for _ in range(AFTER)), return_exceptions=True
        )
    return [result for result in results if isinstance(result, BaseException)]


def loop_clock() -> float:
    """The running loop's time, which asyncio's and uvloop's timers keep: a lower bound on a
    timeout is measured on it (``since``). uvloop reads its clock once per iteration, so under
    load a 0.2 s timer measured with perf_counter ended after 0.1999 s."""
    return asyncio.get_running_loop().time()


def since(started: float) -> float:
    """Seconds on the loop's clock since ``started`` (a ``loop_clock()``), to the millisecond:
    uvloop's clock counts milliseconds, and 87806.526 - 87806.326 is 0.19999... in floats."""
    return round(loop_clock() - started, 3)


def on_uvloop() -> bool:
    """Whether the running loop is uvloop's (``pytest --loop uvloop``, ``make test-uvloop``)."""
    return type(asyncio.get_running_loop()).__module__.startswith("uvloop")
