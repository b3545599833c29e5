"""Several small connection pools behind one transport, for the owned httpx2 engine.

httpcore2's pool scans every pooled connection, with a system call for each idle one, twice per
request: the cost grows with the pool. One pool of 100 connections served 3,000 searches at once
against a 100 ms server with 29.6 s of CPU under cProfile, 15 s of it in that scan; five pools
of 20, holding the same 100 connections, with 15.6 s (3.4 s scanning).

A request goes to the pool with the fewest requests in flight; with at most as many in flight
as all pools hold (the queue in _cancel.py), none ever waits in a pool's own queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

SHARDS = 5
PER_SHARD = httpx.Limits(max_connections=20, max_keepalive_connections=20)


class ShardedTransport(httpx.AsyncBaseTransport):
    """Sends each request through the least busy of ``shards`` (each one connection pool)."""

    def __init__(self, shards: Sequence[httpx.AsyncBaseTransport], per_shard: int) -> None:
        self.shards = list(shards)
        self._busy = [0] * len(shards)  # requests in flight per shard, until their body closes
        self.max_connections = per_shard * len(shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        busy = self._busy
        index = busy.index(min(busy))
        busy[index] += 1
        try:
            response = await self.shards[index].handle_async_request(request)
        except BaseException:
            busy[index] -= 1
            raise
        response.stream = _Released(response.stream, busy, index)
        return response

    async def aclose(self) -> None:
        """Close every pool, even when closing one fails (the first error is raised)."""
        errors = []
        for shard in self.shards:
            try:
                await shard.aclose()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


class _Released(httpx.AsyncByteStream):
    """A response body that counts its request out of its shard once closed (its connection
    is back in the pool by then)."""

    def __init__(self, stream: Any, busy: list[int], index: int) -> None:
        self._stream = stream
        self._busy: list[int] | None = busy
        self._index = index

    def __aiter__(self) -> Any:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._busy is not None:
                self._busy[self._index] -= 1
                self._busy = None
