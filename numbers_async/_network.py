"""httpcore's network layer on asyncio's own transports, for the owned httpx and httpx2 pools.

Why: on asyncio, httpcore (1.x and 2) reads and writes through anyio, which costs a cancel scope
per read and per write, a loop turn per read even when the bytes are there, and, to probe an
idle connection before reusing it (twice per request), a fresh dict of typed attributes. This
backend reads into a buffer as asyncio delivers the bytes, bounds each wait with one timer, and
answers the idle probe from what it has seen (and one poll of the socket): 9-10 % fewer
instructions per search (W1 under callgrind: httpx 3.99 -> 3.61 M, httpx2 3.70 -> 3.32 M).
It is a network backend as httpcore defines them (``network_backend=``), and
raises the errors of the engine it serves (``errors``: the httpcore or httpcore2 module), so
everything above it behaves as on anyio's.
"""

# ruff: noqa: ASYNC109 (httpcore's interface passes each timeout as an argument)
from __future__ import annotations

import asyncio
import functools
import ipaddress
import select
import socket
import ssl
import warnings
import weakref
from collections import deque
from collections.abc import Coroutine, Iterable
from types import ModuleType
from typing import Any

# Received bytes a connection buffers before asyncio stops reading its socket (the kernel's
# buffer then holds the rest, and TCP slows the sender).
_READ_BUFFER = 256 * 1024
_HAPPY_EYEBALLS_DELAY = 0.25  # s, as anyio (RFC 8305)


class _Protocol(asyncio.Protocol):
    """The bytes, end and error of one connection, and the read and the write waiting on it."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.ended = False  # the peer closed its side, or the connection was lost
        self.error: Exception | None = None
        self.reader: asyncio.Future[None] | None = None  # a read waiting for bytes or the end
        self.writer: asyncio.Future[None] | None = None  # a write waiting for room to write
        self.writing_paused = False
        self.reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_BUFFER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        _wake(self.reader)

    def eof_received(self) -> None:
        self.ended = True
        _wake(self.reader)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self.writing_paused = False
        _wake(self.reader)
        _wake(self.writer)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        _wake(self.writer)

    async def wait(self, deadline: float | None, *, reading: bool) -> bool:
        """Wait for the read's event (bytes, end, error) or the write's (room, error); False
        once the loop's clock passes ``deadline``."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if reading:
            self.reader = waiter
        else:
            self.writer = waiter
        timer = None if deadline is None else loop.call_at(deadline, _expire, waiter)
        try:
            await waiter
        except _Expired:
            return False
        finally:
            if reading:
                self.reader = None
            else:
                self.writer = None
            if timer is not None:
                timer.cancel()
        return True

    def take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of the buffered bytes, in order."""
        chunks = self.chunks
        data = chunks.popleft()
        while chunks and len(data) + len(chunks[0]) <= max_bytes:
            data += chunks.popleft()
        if len(data) > max_bytes:
            chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        self.buffered -= len(data)
        if self.reading_paused and self.buffered <= _READ_BUFFER // 4:
            self.reading_paused = False
            self.transport.resume_reading()
        return data


class _Expired(Exception):
    """A wait's timer fired."""


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _deadline(timeout: float | None) -> float | None:
    """The loop time ``timeout`` seconds from now: a whole read or write gets no more, however
    many times it is woken (a peer trickling bytes must not stretch a write's timeout)."""
    return None if timeout is None else asyncio.get_running_loop().time() + timeout


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_Expired())


class AsyncioStream:
    """One connection, as httpcore's ``AsyncNetworkStream``."""

    def __init__(self, protocol: _Protocol, errors: ModuleType) -> None:
        self._protocol = protocol
        self._errors = errors
        sock = protocol.transport.get_extra_info("socket")
        self._fileno = -1 if sock is None else sock.fileno()
        self._dropped = weakref.finalize(
            self, _dropped, protocol.transport, asyncio.get_running_loop()
        )
        self._dropped.atexit = False  # at exit, its loop's end (or the process's) closes it

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.chunks:
            deadline = _deadline(timeout)
            while not protocol.chunks:
                if protocol.error is not None:
                    error = protocol.error
                    raise self._errors.ReadError(str(error) or type(error).__name__)
                if protocol.ended:
                    return b""
                if not await protocol.wait(deadline, reading=True):
                    raise self._errors.ReadTimeout("timed out")
        return protocol.take(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.transport.is_closing():
            raise self._errors.WriteError("the connection is closed")
        protocol.transport.write(buffer)
        if protocol.writing_paused:
            deadline = _deadline(timeout)
            while protocol.writing_paused:
                if not await protocol.wait(deadline, reading=False):
                    raise self._errors.WriteTimeout("timed out")
        if protocol.error is not None:
            raise self._errors.WriteError(str(protocol.error) or type(protocol.error).__name__)

    async def aclose(self) -> None:
        """Close as anyio does: the bytes still unsent get one loop turn, then the socket goes
        (a peer that stopped reading would otherwise keep it open)."""
        transport = self._protocol.transport
        try:
            if not transport.is_closing():
                transport.close()
                await asyncio.sleep(0)
        finally:
            transport.abort()  # also when asyncio closed it itself (the peer ended) and waits

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncioStream:
        protocol = self._protocol
        if protocol.chunks:  # the server spoke first (a banner, plain HTTP): no TLS to wait for
            await self.aclose()
            raise self._errors.ConnectError(
                f"the server sent {sum(map(len, protocol.chunks))} bytes before the TLS "
                "handshake began: [SSL: WRONG_VERSION_NUMBER] it does not speak TLS first"
            )
        if protocol.ended or protocol.transport.is_closing():  # uvloop would wait for good
            await self.aclose()
            lost = protocol.error
            raise self._errors.ConnectError(
                f"{str(lost) or type(lost).__name__} before the TLS handshake began"
                if lost is not None
                else "the server closed the connection before the TLS handshake began"
            )
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    protocol.transport, protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            await self.aclose()
            raise self._errors.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            # A reset has no message of its own: "ConnectError: no detail" said nothing.
            detail = str(exc) or f"{type(exc).__name__} during the TLS handshake"
            raise self._errors.ConnectError(detail) from exc
        if transport is None:  # the connection was lost meanwhile
            raise self._errors.ConnectError("the connection closed during the TLS handshake")
        protocol.transport = transport
        self._dropped.detach()  # the TLS stream's now: its socket must outlive this stream
        return AsyncioStream(protocol, self._errors)

    def get_extra_info(self, info: str) -> Any:
        transport = self._protocol.transport
        if info == "is_readable":  # httpcore's probe of an idle connection: closed, or bytes?
            protocol = self._protocol
            return bool(
                protocol.chunks
                or protocol.ended
                or transport.is_closing()
                or _socket_readable(self._fileno)
            )
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


AddressInfo = tuple[int, int, int, str, tuple[Any, ...]]


async def _addresses(loop: asyncio.AbstractEventLoop, host: str, port: int) -> list[AddressInfo]:
    """Where ``host`` is, the families alternating (RFC 8305); an IP address is not looked up."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    else:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    if not infos:
        raise OSError(f"no address found for {host}")
    families: dict[int, deque[AddressInfo]] = {}
    for info in infos:
        families.setdefault(info[0], deque()).append(info)
    ordered = []
    while families:
        for family in list(families):
            ordered.append(families[family].popleft())
            if not families[family]:
                del families[family]
    return ordered


async def _first_connected(
    loop: asyncio.AbstractEventLoop, infos: list[AddressInfo], local: tuple[str, int] | None
) -> tuple[Any, _Protocol]:
    """The first of ``infos`` to connect, the next one tried when one fails or has not
    connected within 250 ms (happy eyeballs, as anyio does). Every other attempt is cancelled
    and a connection it made anyway closed, also when the caller is cancelled: asyncio's own
    race (``happy_eyeballs_delay``) leaks the winner's socket then on Python 3.11."""
    waiting = deque(infos)
    pending: set[asyncio.Task[tuple[Any, _Protocol]]] = set()
    errors: list[BaseException] = []
    try:
        while waiting or pending:
            if waiting:
                pending.add(loop.create_task(_connect_to(loop, waiting.popleft(), local)))
            done, pending = await asyncio.wait(
                pending,
                timeout=_HAPPY_EYEBALLS_DELAY if waiting else None,
                return_when=asyncio.FIRST_COMPLETED,
            )
            connected = [task for task in done if task.exception() is None]
            errors += [error for task in done if (error := task.exception()) is not None]
            if connected:
                for extra in connected[1:]:
                    extra.result()[0].close()
                return connected[0].result()
        raise OSError("; ".join(str(error) or type(error).__name__ for error in errors))
    finally:
        for task in pending:
            task.cancel()
            task.add_done_callback(_close_if_connected)


async def _connect_to(
    loop: asyncio.AbstractEventLoop, info: AddressInfo, local: tuple[str, int] | None
) -> tuple[Any, _Protocol]:
    """A connection to one address, or its socket closed."""
    family, kind, proto, _, address = info
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        if local is not None:
            sock.bind(local)
        await loop.sock_connect(sock, address)
        return await loop.create_connection(_Protocol, sock=sock)
    except BaseException:
        sock.close()
        raise


def _close_if_connected(task: asyncio.Task[tuple[Any, _Protocol]]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result()[0].close()


def _socket_readable(fileno: int) -> bool:
    """Whether the kernel holds bytes (or the end) asyncio has not delivered yet."""
    if fileno < 0:
        return True
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    return bool(poller.poll(0))


def pool_on_asyncio(
    engine: ModuleType, limits: Any, ssl_context: ssl.SSLContext, proxy: Any = None
) -> Any:
    """A connection pool of ``engine`` (the httpcore or httpcore2 module) with httpx's
    ``limits``, on this backend; through ``proxy`` (an http:// or https:// ``httpx.Proxy``,
    verified with ``ssl_context`` too) if given, as httpx builds its own: a CONNECT tunnel to an
    https origin, forwarding to an http one."""
    options = {
        "ssl_context": ssl_context,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "network_backend": AsyncioBackend(engine),
    }
    if proxy is None:
        return engine.AsyncConnectionPool(**options)
    url = proxy.url
    return _proxy_pool(engine)(
        proxy_url=engine.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        ),
        proxy_auth=proxy.raw_auth,
        proxy_headers=proxy.headers.raw,
        proxy_ssl_context=ssl_context if url.scheme == "https" else None,
        **options,
    )


@functools.cache
def _proxy_pool(engine: ModuleType) -> type[Any]:
    """``engine``'s proxy pool, whose CONNECT tunnels close their connection to the proxy when
    the tunnel could not be set up (the TLS handshake through it failed, stalled or was
    cancelled). httpcore 1.0.9 and httpcore2 leave that connection busy in the pool for good
    (encode/httpcore#1023, unfixed): the owned pools of one connection (_shards.py) then
    served no request again, and every later search timed out until the pool was idle 5 s."""
    tunnel_class: type[Any] = engine._async.http_proxy.AsyncTunnelHTTPConnection

    class ClosingTunnel(tunnel_class):  # type: ignore[misc]
        async def handle_async_request(self, request: Any) -> Any:
            try:
                return await super().handle_async_request(request)
            except BaseException:
                if not self._connected:  # closed before the error goes on: the pool sees it
                    await self._connection.aclose()  # closed and drops it
                raise

    class ProxyPool(engine.AsyncHTTPProxy):  # type: ignore[misc,name-defined]
        def create_connection(self, origin: Any) -> Any:
            connection = super().create_connection(origin)
            if type(connection) is tunnel_class:  # the engine's, built with all its options
                connection.__class__ = ClosingTunnel
            return connection

    return ProxyPool


def _dropped(transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
    """A connection dropped unclosed with its pool (a client never closed): the loop keeps its
    transport reading for ever, socket and all, so it is closed (on the loop, at its next turn:
    the garbage collector runs anywhere, on any thread), then warned of as a socket dropped
    unclosed is (anyio's streams let the socket go with the pool)."""
    if transport.is_closing():
        return
    try:
        loop.call_soon_threadsafe(transport.abort)
    except RuntimeError:  # the loop is closed: the process is ending, or the loop with it
        return
    warnings.warn(  # after closing: where ResourceWarnings are errors, it raises
        f"numbers-async: a pooled connection to {transport.get_extra_info('peername')} was "
        "dropped unclosed: close the NumbersClient (aclose() or async with)",
        ResourceWarning,
        stacklevel=1,
    )


class AsyncioBackend:
    """httpcore's ``AsyncNetworkBackend`` on asyncio, raising ``errors``' exceptions."""

    def __init__(self, errors: ModuleType) -> None:
        self._errors = errors

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)

        async def connect() -> tuple[Any, _Protocol]:
            return await _first_connected(loop, await _addresses(loop, host, port), local)

        return await self._connect(connect(), timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        return await self._connect(
            loop.create_unix_connection(_Protocol, path), timeout, socket_options
        )

    async def _connect(
        self,
        connecting: Coroutine[Any, Any, tuple[Any, _Protocol]],
        seconds: float | None,
        socket_options: Iterable[Any] | None,
    ) -> AsyncioStream:
        try:
            async with asyncio.timeout(seconds):
                transport, protocol = await connecting
        except TimeoutError:
            raise self._errors.ConnectTimeout("timed out while connecting") from None
        except OSError as exc:
            raise self._errors.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = transport.get_extra_info("socket")
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
        except OSError as exc:
            transport.abort()
            raise self._errors.ConnectError(f"socket option refused: {exc}") from exc
        return AsyncioStream(protocol, self._errors)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
