"""The owned httpx and httpx2 pools: pools of one connection, each given a request only when it
has none in flight (_shards.py), tested without sockets."""

import asyncio

import httpx
import pytest

from numbers_async._shards import ShardedTransport


class Pool(httpx.AsyncBaseTransport):
    """A pool of one connection: counts its requests, answers when ``answer`` is set."""

    built = 0

    def __init__(self) -> None:
        Pool.built += 1
        self.index = Pool.built - 1
        self.requests = 0
        self.in_flight = 0
        self.answer = asyncio.Event()
        self.answer.set()
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.in_flight += 1
        assert self.in_flight == 1, "a second request in a pool of one connection"
        try:
            await self.answer.wait()
        except BaseException:
            self.in_flight -= 1
            raise
        return httpx.Response(200, stream=Body(self))

    async def aclose(self) -> None:
        self.closed = True


class Body(httpx.AsyncByteStream):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"{}"

    async def aclose(self) -> None:
        self.pool.in_flight -= 1


@pytest.fixture(autouse=True)
def fresh_count() -> None:
    Pool.built = 0


async def test_one_request_at_a_time_reuses_one_pool_and_builds_no_other() -> None:
    transport = ShardedTransport(Pool, 100)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(20):
            (await client.get("http://api.test/")).raise_for_status()
    assert Pool.built == 1
    assert [pool.requests for pool in transport.shards] == [20]  # type: ignore[attr-defined]
    assert transport.idle == 100


async def test_requests_in_flight_each_get_a_pool_and_the_extra_ones_wait_in_order() -> None:
    transport = ShardedTransport(Pool, 3)
    pools = [transport.shard(index) for index in range(3)]
    for pool in pools:
        pool.answer.clear()  # type: ignore[attr-defined]
    order: list[int] = []

    async def request(number: int) -> None:
        response = await transport.handle_async_request(httpx.Request("GET", "http://api.test/"))
        await response.aread()
        order.append(number)
        await response.aclose()

    tasks = [asyncio.create_task(request(number)) for number in range(5)]
    await asyncio.sleep(0.01)
    assert [pool.in_flight for pool in pools] == [1, 1, 1]  # type: ignore[attr-defined]
    assert transport.idle == 0
    for pool in pools:
        pool.answer.set()  # type: ignore[attr-defined]
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert order[3:] == [3, 4]  # the two that waited, in arrival order
    assert sum(pool.requests for pool in pools) == 5  # type: ignore[attr-defined]
    assert transport.idle == 3


async def test_a_waiter_cancelled_after_its_wake_up_passes_the_pool_on() -> None:
    transport = ShardedTransport(Pool, 1)
    pool = transport.shard(0)
    pool.answer.clear()  # type: ignore[attr-defined]
    first = asyncio.create_task(
        transport.handle_async_request(httpx.Request("GET", "http://api.test/"))
    )
    await asyncio.sleep(0.01)
    woken = asyncio.create_task(
        transport.handle_async_request(httpx.Request("GET", "http://api.test/"))
    )
    third = asyncio.create_task(
        transport.handle_async_request(httpx.Request("GET", "http://api.test/"))
    )
    await asyncio.sleep(0.01)
    pool.answer.set()  # type: ignore[attr-defined]
    response = await first
    await response.aclose()  # the pool is free: ``woken`` is woken ...
    woken.cancel()  # ... and cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await woken
    response = await asyncio.wait_for(third, 5)  # the pool went on to the third
    await response.aclose()
    assert pool.requests == 2  # type: ignore[attr-defined]
    assert transport.idle == 1


async def test_a_failed_request_frees_its_pool() -> None:
    class Failing(Pool):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.requests += 1
            raise httpx.ConnectError("refused")

    transport = ShardedTransport(Failing, 2)
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            await transport.handle_async_request(httpx.Request("GET", "http://api.test/"))
    assert transport.idle == 2
    assert Pool.built == 1


async def test_closing_closes_every_pool_built_even_if_one_fails() -> None:
    class Stubborn(Pool):
        async def aclose(self) -> None:
            self.closed = True
            if self.index == 0:
                raise RuntimeError("close failed")

    transport = ShardedTransport(Stubborn, 5)
    pools = [transport.shard(index) for index in (0, 3)]
    with pytest.raises(RuntimeError, match="close failed"):
        await transport.aclose()
    assert [pool.closed for pool in pools] == [True, True]  # type: ignore[attr-defined]
    assert len(transport.shards) == 2
