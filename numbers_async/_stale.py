"""Resending a request a stale keep-alive connection lost.

A server closes an idle keep-alive connection when its idle timeout says, and a request sent on
it just then fails without a response ("Server disconnected without sending a response", or a
reset) though the server never handled it: over a network the close and the request cross on
the wire. httpcore, unlike aiohttp, does not resend it: with ``max_retries=0``, 19-20 % of
searches paced 0-100 ms apart failed against a loopback server closing connections idle for
50 ms (tests/loopback.py's ``idle_close``) on httpx, httpx2 and callers' clients; none do now.
RFC 9112 §9.3.1 allows resending an idempotent request then. Its cost: about 3 µs of CPU per
request, lost in the noise of a whole search.

So a request that failed on a REUSED connection before its response head came back is resent
at once, on the same attempt, on a new connection where the pool opens one for it, again
(up to MAX_RESENDS) where the pool hands it another pooled one that fails so too: not a retry
(no delay, no budget, no hook, the same attempt number); a request that failed on a
connection opened for it is not, so a server dropping new connections (an outage) gets one
request per attempt, not two. Which connection a request went
out on, its first trace event tells: httpcore (1.x and 2) reports opening one ("connection.*"),
or else sending on a pooled one ("http11.*"); on aiohttp a TraceConfig reports it
(``connection_opened``). An engine that reports neither (a custom transport) is never resent.
"""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from typing import cast

import httpx

from ._cancel import Trace

# What httpcore says when a reused connection closes before any byte of a response (aiohttp's
# ServerDisconnectedError is mapped to the same words).
DISCONNECTED = "Server disconnected without sending a response."


class StaleConnection(Exception):
    """The request failed on a reused connection before any response: send it once more."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(str(error))
        self.error = error


class _Watch:
    """Whether the request went out on a reused connection (None: not known yet), installed as
    its trace extension in front of any already set (``chained``) until it knows."""

    __slots__ = ("__weakref__", "chained", "extensions", "reused")

    def __init__(self, extensions: dict[str, object]) -> None:
        self.reused: bool | None = None
        self.extensions = extensions
        self.chained = cast("Trace | None", extensions.get("trace"))
        extensions["trace"] = self.trace

    async def trace(self, name: str, info: dict[str, object]) -> None:
        """httpcore's trace extension: the first event comes from opening a connection, or
        from sending on a pooled one; later ones are not watched (httpcore looks the extension
        up again for each, so the next ones cost nothing)."""
        if self.reused is None:  # any other first event (HTTP/2's, say) leaves it unknown
            if name.startswith("http11."):
                self.reused = True
            elif name.startswith("connection."):
                self.reused = False
            self.uninstall()
        if self.chained is not None:
            await self.chained(name, info)

    def uninstall(self) -> None:
        """Put back the trace extension it stood in front of."""
        if self.chained is None:
            self.extensions.pop("trace", None)
        else:
            self.extensions["trace"] = self.chained


# Times a lost request is resent within its attempt: once on a new connection where the pool
# opens one for it (RESENDING), more where a caller's pool hands it other pooled ones, each of
# which the server may have closed too; few, as a request the server handled before dropping
# its connection (a worker's crash) looks the same and must not go out once per connection.
MAX_RESENDS = 3

# Set while a lost request is resent: a pool that would hand it another pooled connection
# (aiohttp's one connector) opens a new one, as a burst after an idle gap found the pooled
# ones closed too. The owned httpx and httpx2 pools, of one connection each, mostly do anyway.
RESENDING: ContextVar[bool] = ContextVar("numbers_async_resending", default=False)

# A weak reference: a connection opened during the request may keep the context for as long as
# it is pooled (uvloop's transports do), and the watch leads, through the request's trace, back
# to the connection: a cycle per connection, left to the garbage collector.
_WATCH: ContextVar[weakref.ref[_Watch] | None] = ContextVar(
    "numbers_async_stale_watch", default=None
)


def connection_opened(*, reused: bool) -> None:
    """For an engine without httpcore's trace (aiohttp): the request being sent now got a
    pooled connection (``reused``) or a new one."""
    ref = _WATCH.get()
    watch = None if ref is None else ref()
    if watch is not None and watch.reused is None:
        watch.reused = reused


async def send(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """``http.send(request, stream=True)``; StaleConnection if it failed on a reused connection
    before a response head came back. Trace events after the head go unwatched."""
    watch = _Watch(request.extensions)
    token = _WATCH.set(weakref.ref(watch))
    try:
        return await http.send(request, stream=True)
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        if watch.reused and _no_response(exc):
            raise StaleConnection(exc) from exc
        raise
    finally:
        _WATCH.reset(token)
        watch.uninstall()


def _no_response(exc: httpx.TransportError) -> bool:
    """Whether ``exc`` is a connection closed or reset before any response (not a timeout, nor
    a malformed response)."""
    if isinstance(exc, httpx.RemoteProtocolError):
        return str(exc) == DISCONNECTED
    return isinstance(exc, (httpx.ReadError, httpx.WriteError))
