"""The owned httpx and httpx2 pools: pools of one connection, each given a request only when it
has none in flight (_shards.py), tested without sockets."""

import asyncio

import httpx
import pytest

from numbers_async._shards import SWEEP_EVERY, ShardedTransport


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


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Slow(Pool):
    """A pool whose answer and close each take a moment: requests sent together overlap."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return await super().handle_async_request(request)

    async def aclose(self) -> None:
        await asyncio.sleep(0.01)
        await super().aclose()


async def send(transport: ShardedTransport) -> None:
    response = await transport.handle_async_request(httpx.Request("GET", "http://api.test/"))
    await response.aread()
    await response.aclose()


async def test_pools_idle_past_the_expiry_are_closed_and_built_again_when_needed() -> None:
    """After a burst of 4, one request at a time uses one pool: the other 3 are closed once idle
    past the expiry (looked for at most once a SWEEP_EVERY), the one in use is kept; all 4 are
    there again for the next burst."""
    clock = Clock()
    transport = ShardedTransport(Slow, 4, expiry=5.0, clock=clock)
    await asyncio.gather(*(send(transport) for _ in range(4)))
    burst = list(transport.shards)
    assert len(burst) == 4
    for step in range(8):
        clock.now = step * SWEEP_EVERY + 0.9 * SWEEP_EVERY
        await send(transport)
        await asyncio.sleep(0.05)  # the closing task's turn
        closed = sum(pool.closed for pool in burst)  # type: ignore[attr-defined]
        assert closed == (3 if clock.now >= 5.0 else 0), clock.now
    assert len(transport.shards) == 1
    assert not transport.shards[0].closed  # type: ignore[attr-defined]
    await asyncio.gather(*(send(transport) for _ in range(4)))
    assert len(transport.shards) == 4
    assert Pool.built == 7
    await transport.aclose()


async def test_closing_the_transport_waits_for_expired_pools_still_closing() -> None:
    clock = Clock()
    transport = ShardedTransport(Slow, 2, expiry=5.0, clock=clock)
    await asyncio.gather(*(send(transport) for _ in range(2)))
    burst = list(transport.shards)
    assert len(burst) == 2
    clock.now = 10.0
    await send(transport)  # takes out both (idle 10 s) to close, then builds one again
    await transport.aclose()
    assert [pool.closed for pool in burst] == [True, True]  # type: ignore[attr-defined]
    assert len(asyncio.all_tasks()) == 1  # this test's own
