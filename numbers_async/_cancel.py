"""Cancelling an attempt without leaking the connection its pool gave it.

Why: httpcore 1.0.9 (under httpx 0.28.1, whose last release was December 2024) leaks a pool
slot when a request is cancelled while it waits in the pool's queue after the pool has
assigned it a connection it has not yet opened (encode/httpcore#1093): the connection is then
neither idle, closed nor available, and nothing ever removes it. A service whose searches are
cancelled (``asyncio.timeout``, ``wait_for``, a client hanging up) loses slot after slot until
every request fails with PoolTimeout. It leaks the same way when a request is cancelled after
its new connection opened and before the request started on it (the connection stays NEW, with
no request, for ever), and when a request is cancelled while its response closes (the body
read: its close waits on a lock, whose anyio shield a plain task.cancel() passes through). httpcore2
(httpx2) and aiohttp do not have these bugs; between those moments, with its request on its
connection, httpcore 1.x handles cancellation correctly (it closes the connection).

So on a pool that is httpcore 1.x, each attempt runs as a task of its own, detached from its
caller, and requests wait for a slot in front of the pool (a semaphore, where cancelling is
safe; ``httpcore_slots``) so that none ever waits in the pool's own queue. A cancelled caller
returns at once: an attempt whose request is on its connection is cancelled with it (the
connection is closed before the caller's CancelledError, as without the guard), and any other
is cancelled at the first ``http11.*`` trace event, once it is (its request may already be on
the wire: the server may answer it for nobody); one whose body is read is left to close.
The semaphore also keeps httpcore from scanning
thousands of queued requests on every pool operation. ``aclose()`` cancels every detached
attempt at once and waits for them: on a pool the client owns a leak no longer matters, as the
pool closes with it. On a caller's pool it waits for those of its searches (a derived client's,
only its own), each abandoned and so cancelled as soon as it safely can: one still connecting
or in its TLS handshake at once (a cancelled connect is dropped by the pool), not at its
connect timeout.

Measured (tests/test_storm.py): without this, 600 searches cancelled after 0-50 ms leave the
default pool's connections busy for good (1,000 leave all 100, and the storm itself takes
20-40 s); with it, none, in about 2 s. The owned httpcore2 pool is queued in front of too, not
for safety but for speed (``queued_pool``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx

from ._cycles import release_frames
from ._handshake import HandshakeWatch
from ._pool_wait import note_cut_off
from ._shards import ShardedTransport

T = TypeVar("T")
Trace = Callable[[str, dict[str, Any]], Awaitable[None]]


POOL_TIMED_OUT = "no connection was free within the pool timeout"


def queued_pool(http: object) -> tuple[int, bool] | None:
    """(connection limit, detach attempts?) for a pool we queue requests in front of: httpcore
    1.x's (the owned httpx pools, or a caller's httpx client), whose queue leaks connections on
    cancellation, and the owned httpcore2 pools, whose queue costs O(queued requests) per pool
    operation (5,000 searches at once took minutes); None for any other engine (aiohttp's
    connector queues in O(1))."""
    if not isinstance(http, httpx.AsyncClient):
        return None
    transport = http._transport
    if isinstance(transport, ShardedTransport):  # the owned httpx or httpx2 pools
        first = transport.shard(0)  # built now, as the first request would
        return transport.max_connections, isinstance(first, httpx.AsyncHTTPTransport)
    if isinstance(transport, httpx.AsyncHTTPTransport):  # a caller's
        # httpcore 1.0.9 is the last 1.x release: its private attributes will not move.
        pool = transport._pool
        return httpcore_slots(pool._max_connections, pool._max_keepalive_connections), True
    return None


def caller_httpx2_slots(http: object) -> int | None:
    """Requests a caller's ``httpx2.AsyncClient`` (``CallerHttpx2Client.caller_client``) lets
    into its pool at once, read from httpcore2's pool as from httpcore's (``httpcore_slots``);
    None where they cannot be read (another transport, a release that moved them)."""
    caller = getattr(http, "caller_client", None)
    pool = getattr(getattr(caller, "_transport", None), "_pool", None)
    most = getattr(pool, "_max_connections", None)
    kept = getattr(pool, "_max_keepalive_connections", None)
    if isinstance(most, int) and isinstance(kept, int):
        return httpcore_slots(most, kept)
    return None


def httpcore_slots(max_connections: int, max_keepalive: int) -> int:
    """Requests let into an httpcore 1.x pool at once (it stores an unbounded limit as
    sys.maxsize): no more than it keeps alive, since past that each released connection is
    closed and a new one opened (httpx's default pool keeps 20 of 100: 5,000 searches at once
    opened 4,982 connections); a pool keeping none alive gets its connection limit."""
    kept = max_keepalive if max_keepalive > 0 else max_connections
    return max(1, min(kept, max_connections))


# httpcore's trace events after which an attempt only closes its response: no more I/O to
# wait for, and a cancellation inside that close (its lock's checkpoint) would leave the
# connection ACTIVE and its request in the pool for good.
_CLOSING = (
    "receive_response_body.complete",
    "receive_response_body.failed",
    "response_closed.started",
)


class _Detached(HandshakeWatch):
    """One detached attempt: cancelled by its caller only while it connects or once its request
    holds a connection, and no longer once its response is closing (it then ends by itself)."""

    __slots__ = ("abandoned", "closing", "connecting", "on_connection", "task")

    def __init__(self) -> None:
        super().__init__()
        self.abandoned = False
        self.connecting = False
        self.on_connection = False
        self.closing = False
        self.task: asyncio.Task[Any] | None = None

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's trace extension: the first ``http11.*`` (or ``http2.*``) event comes once
        the request owns its connection (state ACTIVE), where a cancellation closes that
        connection (its request may already be on the wire). Not earlier: cancelled between
        opening a connection and starting on it, httpcore 1.0.9 keeps the connection as NEW for
        ever (the storm test leaked one in 1 run in 6). Not once the response is closing
        (``_CLOSING``): a storm of ``asyncio.timeout`` of 0-0.3 s left 9-16 connections busy.
        While the TCP connection is being made or its TLS handshake runs, a cancellation marks
        it failed, which the pool then drops: an attempt abandoned then ends at once, not at the
        connect timeout."""
        if name.endswith(_CLOSING):
            self.closing = True
        elif name.startswith(("connection.connect_tcp.", "connection.start_tls.")):
            self.connecting = name.endswith(".started")
            if self.connecting and self.abandoned:
                self._cancel()
        elif not self.on_connection and name.startswith(("http11.", "http2.")):
            self.on_connection = True
            if self.abandoned:
                self._cancel()
        # A handshake's socket, with the server or through a proxy's tunnel ("proxy.start_tls"):
        # closed if it fails, cancelled above all (_handshake.py).
        if self.tcp is not None or name == "connection.connect_tcp.complete":
            await self.watch_handshake(name, info)

    def abandon(self) -> bool:
        """The caller is gone: cancel the attempt now if it connects or its request holds its
        connection, else once it does. True when it ends in a moment (cancelled, or closing)."""
        self.abandoned = True
        if self.connecting or self.on_connection:
            self._cancel()
            return True
        return self.closing

    def _cancel(self) -> None:
        if self.task is not None and not self.closing:
            self.task.cancel()


class DetachedAttempts:
    """Runs attempts queued in front of a pool (never more in it than its connections), each
    as a detached task when the pool's queue cancels unsafely (``detach``)."""

    __slots__ = ("_detach", "_slots", "_tasks")

    def __init__(self, limit: int, *, detach: bool = True) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._detach = detach
        self._tasks: dict[asyncio.Task[Any], object] = {}  # running detached attempts: owners

    async def run(
        self, request: httpx.Request, send: Callable[[], Coroutine[Any, Any, T]], owner: object
    ) -> T:
        """``send()``'s result; a cancelled caller gets CancelledError at once while the attempt
        is cancelled as soon as it safely can (see the module docstring). ``owner`` (a client
        sharing this queue) is whose attempts ``settle`` may wait for alone."""
        if self._slots.locked():
            try:
                async with asyncio.timeout(request.extensions.get("timeout", {}).get("pool")):
                    await self._slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout(POOL_TIMED_OUT) from None
            except asyncio.CancelledError:  # a deadline's, or the caller's: nothing was sent
                note_cut_off()
                raise
        else:  # a free slot is taken without waiting: no timer to set and cancel
            await self._slots.acquire()
        if not self._detach:
            try:
                return await send()
            finally:
                self._slots.release()
        attempt = _Detached()
        request.extensions["trace"] = attempt.trace
        try:
            task = attempt.task = asyncio.ensure_future(send())
        except BaseException:
            self._slots.release()
            raise
        task.add_done_callback(self._release)
        self._tasks[task] = owner
        try:
            result: T = await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done() and attempt.abandon():  # its connection closes in a moment
                await asyncio.wait({task})
            raise
        attempt.task = None  # the result refers to the attempt (its request's trace): no cycle
        return result

    def _release(self, task: asyncio.Task[Any]) -> None:
        self._slots.release()
        del self._tasks[task]
        try:  # an abandoned attempt's outcome is marked as seen (nobody awaits it) ...
            task.result()
        except BaseException as exc:  # ... and its error, a cancellation's too, let go
            release_frames(exc)

    async def settle(self, *, cancel: bool, owner: object = None) -> None:
        """Wait for every attempt (of ``owner`` alone, if given) to end, cancelling them at
        once first when ``cancel`` (the pool closes next, so a leak no longer matters)."""
        tasks = [task for task, of in self._tasks.items() if owner is None or of is owner]
        if cancel:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
