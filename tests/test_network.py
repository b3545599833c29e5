"""The asyncio network backend under the owned httpx and httpx2 pools (numbers_async/_network.py):
reads, writes, timeouts, the idle probe, connecting (happy eyeballs, cancellation) and TLS, each
raising the errors of the engine it serves."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import httpcore
import httpcore2
import httpx
import pytest
import trustme

from numbers_async._httpx2 import Httpcore2Transport
from numbers_async._httpx_pool import FramedHTTPTransport
from numbers_async._network import AsyncioBackend, AsyncioStream
from numbers_async._shards import ONE_CONNECTION

pytestmark = pytest.mark.timeout(20)

ENGINES = [pytest.param(httpcore, id="httpcore"), pytest.param(httpcore2, id="httpcore2")]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def peer(handle: Handler, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A loopback server running ``handle`` for each connection; its port."""
    handlers: set[asyncio.Task[None]] = set()

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            handlers.discard(task)

    server = await asyncio.start_server(run, "127.0.0.1", 0, ssl=ssl_context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await server.wait_closed()


async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read nothing, send nothing, until the client leaves."""
    await reader.read()


async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read nothing (past asyncio's 64 KiB) and send nothing."""
    await asyncio.sleep(3600)


async def connect(errors: ModuleType, port: int) -> AsyncioStream:
    return await AsyncioBackend(errors).connect_tcp("127.0.0.1", port, timeout=5)


async def overfill(stream: AsyncioStream, each_within: float) -> None:
    """Write far more than the kernel's buffers hold, each write within ``each_within`` s."""
    chunk = b"x" * (1 << 20)
    for _ in range(256):
        await stream.write(chunk, timeout=each_within)


@pytest.mark.parametrize("errors", ENGINES)
async def test_reads_come_in_order_within_max_bytes_then_the_end(errors: ModuleType) -> None:
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"0123456789")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"abc")
        await writer.drain()

    async with peer(send) as port:
        stream = await connect(errors, port)
        received = [await stream.read(4, timeout=5) for _ in range(3)]
        assert received == [b"0123", b"4567", b"89"]
        assert await stream.read(100, timeout=5) == b"abc"
        assert await stream.read(100, timeout=5) == b""
        assert stream.get_extra_info("is_readable") is True  # the end is there to read
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_silent_peer_times_a_read_out_with_the_engines_error(errors: ModuleType) -> None:
    async with peer(hold) as port:
        stream = await connect(errors, port)
        started = asyncio.get_running_loop().time()
        with pytest.raises(errors.ReadTimeout):
            await stream.read(100, timeout=0.1)
        assert 0.09 <= asyncio.get_running_loop().time() - started < 2
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_peer_that_stops_reading_times_a_write_out(errors: ModuleType) -> None:
    async with peer(stall) as port:
        stream = await connect(errors, port)
        with pytest.raises(errors.WriteTimeout):
            await overfill(stream, each_within=0.1)
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_peer_trickling_bytes_does_not_stretch_a_write_timeout(
    errors: ModuleType,
) -> None:
    """Each byte the peer sends wakes the stream; the write's timeout still counts from its
    start."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # never reads past asyncio's 64 KiB
            writer.write(b".")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with peer(trickle) as port:
        stream = await connect(errors, port)
        loop = asyncio.get_running_loop()
        with pytest.raises(errors.WriteTimeout):
            async with asyncio.timeout(5):
                await overfill(stream, each_within=0.3)
        stuck_since = loop.time()
        with pytest.raises(errors.WriteTimeout):
            await stream.write(b"x" * (1 << 20), timeout=0.3)
        assert loop.time() - stuck_since < 1  # 0.3 s, although a byte came every 50 ms
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_read_and_a_write_waiting_at_once_are_each_woken(errors: ModuleType) -> None:
    """A write waiting for room does not take the wake-up of a read waiting for bytes."""
    go = asyncio.Event()

    async def answer_later(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await go.wait()
        writer.write(b"answer")
        await writer.drain()
        await asyncio.sleep(3600)  # and never reads

    async with peer(answer_later) as port:
        stream = await connect(errors, port)
        reading = asyncio.create_task(stream.read(100, timeout=5))
        writing = asyncio.create_task(overfill(stream, each_within=0.6))
        await asyncio.sleep(0.2)
        go.set()
        assert await asyncio.wait_for(reading, 1) == b"answer"
        with pytest.raises(errors.WriteTimeout):
            await writing
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_closing_after_the_peer_ended_frees_the_socket_with_bytes_unsent(
    errors: ModuleType,
) -> None:
    """The peer ends its side and reads no more while a write waits: asyncio closes the
    transport itself but keeps the socket for the unsent bytes; aclose() drops them."""

    async def end_and_stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(1)
        await asyncio.sleep(0.2)  # the client's writes wait for room by now
        writer.write_eof()
        await asyncio.sleep(3600)

    async with peer(end_and_stall) as port:
        stream = await connect(errors, port)
        sock = stream.get_extra_info("socket")
        with pytest.raises((errors.WriteTimeout, errors.WriteError)):
            await overfill(stream, each_within=0.5)
        await stream.aclose()
        await asyncio.sleep(0.05)
        assert sock.fileno() == -1


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_reset_connection_is_a_read_error_and_a_closed_one_a_write_error(
    errors: ModuleType,
) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST, not FIN

    async with peer(reset) as port:
        stream = await connect(errors, port)
        await stream.write(b"x", timeout=5)
        with pytest.raises(errors.ReadError):
            await stream.read(100, timeout=5)
        with pytest.raises(errors.WriteError):
            await stream.write(b"more", timeout=5)
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_the_idle_probe_sees_bytes_and_the_end_but_not_an_idle_peer(
    errors: ModuleType,
) -> None:
    """httpcore asks ``is_readable`` before reusing an idle connection: true means drop it."""
    said = asyncio.Event()

    async def talk_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await said.wait()
        writer.write(b"unexpected")
        await writer.drain()
        await reader.readexactly(1)

    async with peer(talk_then_close) as port:
        stream = await connect(errors, port)
        await asyncio.sleep(0.05)
        assert stream.get_extra_info("is_readable") is False
        said.set()
        for _ in range(100):
            if stream.get_extra_info("is_readable"):
                break
            await asyncio.sleep(0.01)
        assert stream.get_extra_info("is_readable") is True
        assert await stream.read(100, timeout=5) == b"unexpected"
        assert stream.get_extra_info("is_readable") is False
        await stream.write(b"!", timeout=5)  # the peer leaves
        assert await stream.read(100, timeout=5) == b""
        assert stream.get_extra_info("is_readable") is True
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_refused_connection_is_a_connect_error(errors: ModuleType) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(errors.ConnectError):
            await AsyncioBackend(errors).connect_tcp("127.0.0.1", port, timeout=5)


def hang_on(monkeypatch: pytest.MonkeyPatch, hanging: set[Any]) -> list[socket.socket]:
    """Make connecting to the addresses in ``hanging`` hang; the sockets tried are returned."""
    loop = asyncio.get_running_loop()
    real = loop.sock_connect
    tried: list[socket.socket] = []

    async def sock_connect(sock: socket.socket, address: Any) -> None:
        tried.append(sock)
        if address in hanging:
            await asyncio.sleep(3600)
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", sock_connect)
    return tried


def resolving_to(monkeypatch: pytest.MonkeyPatch, addresses: list[tuple[str, int]]) -> None:
    """Make the name "api.example" resolve to ``addresses`` (IPv4), in that order."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: str, port: int, **options: Any) -> list[Any]:
        if host != "api.example":  # uvloop's sock_connect looks up the address it is given
            return await real(host, port, **options)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", address) for address in addresses]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("errors", ENGINES)
async def test_an_address_that_does_not_answer_gives_way_to_the_next_after_250_ms(
    errors: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with peer(hold) as port:
        dead, live = ("127.0.0.2", port), ("127.0.0.1", port)
        resolving_to(monkeypatch, [dead, live])
        tried = hang_on(monkeypatch, {dead})
        loop = asyncio.get_running_loop()
        started = loop.time()
        stream = await AsyncioBackend(errors).connect_tcp("api.example", port, timeout=5)
        assert 0.2 <= loop.time() - started < 2
        assert stream.get_extra_info("server_addr") == live
        await asyncio.sleep(0)  # the losing attempt's cancellation runs
        assert [sock.fileno() for sock in tried] == [-1, tried[1].fileno()]  # the loser closed
        await stream.aclose()


@pytest.mark.parametrize("errors", ENGINES)
async def test_a_connect_timeout_or_a_cancelled_caller_leaves_no_socket_open(
    errors: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every socket tried is closed (a leaked one would also fail the test as a
    ResourceWarning)."""
    addresses = [("127.0.0.2", 9), ("127.0.0.3", 9)]
    resolving_to(monkeypatch, addresses)
    tried = hang_on(monkeypatch, set(addresses))
    backend = AsyncioBackend(errors)
    with pytest.raises(errors.ConnectTimeout):
        await backend.connect_tcp("api.example", 9, timeout=0.4)
    attempt = asyncio.create_task(backend.connect_tcp("api.example", 9, timeout=5))
    await asyncio.sleep(0.3)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    await asyncio.sleep(0)
    assert len(tried) == 4
    assert all(sock.fileno() == -1 for sock in tried)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.mark.parametrize("engine", ["httpx", "httpx2"])
async def test_an_owned_pool_speaks_https_with_sni_and_verification(
    engine: str, authority: trustme.CA
) -> None:
    """A request over TLS through each owned pool's transport: the certificate is checked
    against the host name (the client's context trusts only the test CA)."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    seen: list[str | None] = []

    def sni(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        seen.append(name)

    server_context.sni_callback = sni

    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            await writer.drain()

    transport: httpx.AsyncBaseTransport
    if engine == "httpx":
        transport = FramedHTTPTransport(ONE_CONNECTION, client_context)
    else:
        transport = Httpcore2Transport(ONE_CONNECTION, client_context)
    async with peer(answer, server_context) as port, httpx.AsyncClient(transport=transport) as http:
        for _ in range(3):
            response = await http.get(f"https://localhost:{port}/")
            assert (response.status_code, response.content) == (200, b"hello")
        assert (seen, connections) == (["localhost"], 1)  # the idle probe let it be reused
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"https://127.0.0.1:{port}/")  # not the certificate's name
