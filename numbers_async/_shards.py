"""The owned httpx and httpx2 pools: many pools of one connection behind one transport.

Why not one pool of 100: httpcore's pool scans every pooled connection per request (httpcore2
with a system call for each idle one), so its cost grows with the pool; and httpcore 1.0.9
hands a connection it just assigned, still idle until its request starts, to the next request
too, which then fails inside the pool and retries. With five httpcore 1.0.9 pools of 20, 5,000
searches at once against a 100 ms server made 19,884 such retries and opened 170 connections
for 100; one pool of 20 took 27 s. A pool of one connection that gets a request only when it
has none in flight does neither: no scan, no retry, no connection opened twice.

The last pool released is the next one used, so a client with few requests in flight keeps
reusing the same few connections (a queue would open all 100). Pools are built on first use.
Each pool expires its connection only when it gets a request, which a pool below the few in
use never does: after a burst, light traffic kept all 100 connections open for good (aiohttp's
connector closed 91 of them). So at most once a ``SWEEP_EVERY`` seconds a request takes out
the pools left idle longer than the keep-alive expiry (rebuilt if needed again), closed in a
task of their own (the request does not wait for it; ``aclose()`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
SWEEP_EVERY = 1.0  # seconds between two looks for pools idle past their keep-alive expiry


class ShardedTransport(httpx.AsyncBaseTransport):
    """Sends each request through a pool of one connection with no request in flight, waiting
    (first come, first served) when all ``size`` are busy."""

    def __init__(
        self,
        make_pool: Callable[[], httpx.AsyncBaseTransport],
        size: int,
        *,
        expiry: float | None = ONE_CONNECTION.keepalive_expiry,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_pool = make_pool
        self._pools: list[httpx.AsyncBaseTransport | None] = [None] * size
        self._idle = list(reversed(range(size)))  # a stack: pool 0 is used first
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.max_connections = size
        self._expiry = expiry  # seconds a pool may stay idle with its connection (None: ever)
        self._clock = clock
        self._released_at = [0.0] * size
        self._next_sweep = clock() + SWEEP_EVERY
        self._closing: set[asyncio.Task[None]] = set()  # closing expired pools

    @property
    def shards(self) -> list[httpx.AsyncBaseTransport]:
        """The pools built so far."""
        return [pool for pool in self._pools if pool is not None]

    @property
    def idle(self) -> int:
        """Pools with no request in flight (every one once all responses are closed)."""
        return len(self._idle)

    def shard(self, index: int) -> httpx.AsyncBaseTransport:
        """Pool ``index``, built now if it was not yet."""
        pool = self._pools[index]
        if pool is None:
            pool = self._pools[index] = self._make_pool()
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._expiry is not None and self._clock() >= self._next_sweep:
            self._close_expired()
        while not self._idle:  # not with the queue in front of it (_cancel.py): never full
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # woken, then cancelled:
                    self._wake()  # the pool it was woken for goes to the next waiter
                raise
        index = self._idle.pop()
        try:
            response = await self.shard(index).handle_async_request(request)
        except BaseException:
            self._release(index)
            raise
        response.stream = _Released(response.stream, self, index)
        return response

    def _release(self, index: int) -> None:
        """Pool ``index`` is free again: the next waiter (if any) may take it."""
        self._idle.append(index)
        self._released_at[index] = self._clock()
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():  # a waiter cancelled meanwhile takes no turn
                waiter.set_result(None)
                break

    def _close_expired(self) -> None:
        """Take out the pools idle longer than the expiry (a request may take their place at
        once, in a new pool) and close them in a task."""
        now = self._clock()
        self._next_sweep = now + SWEEP_EVERY
        assert self._expiry is not None
        expired = []
        for index in self._idle:
            pool = self._pools[index]
            if pool is not None and now - self._released_at[index] >= self._expiry:
                expired.append(pool)
                self._pools[index] = None
        if expired:
            task = asyncio.get_running_loop().create_task(_close_all(expired))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every pool, even when closing one fails (the first error is raised)."""
        if self._closing:  # expired pools still closing
            await asyncio.wait(self._closing)
        errors = []
        for pool in self.shards:
            try:
                await pool.aclose()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


async def _close_all(pools: list[httpx.AsyncBaseTransport]) -> None:
    """Close idle ``pools``, all of them whatever one raises (its connection broke meanwhile)."""
    for pool in pools:
        with contextlib.suppress(Exception):
            await pool.aclose()


class _Released(httpx.AsyncByteStream):
    """A response body that frees its pool once closed (its connection is idle by then)."""

    def __init__(self, stream: Any, owner: ShardedTransport, index: int) -> None:
        self._stream = stream
        self._owner: ShardedTransport | None = owner
        self._index = index

    def __aiter__(self) -> Any:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._owner is not None:
                self._owner._release(self._index)
                self._owner = None
