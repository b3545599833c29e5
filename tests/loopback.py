"""A real HTTP/1.1 server on 127.0.0.1 for tests where sockets matter, scripted per request.

Each request takes the next behaviour from ``script``, then from ``mix`` (behaviour ->
probability, drawn from a seeded ``random.Random`` so a run is reproducible), then ``default``:
"ok" answers 200 with ``limit`` distinct numbers (prefixed by the ``areaCode`` asked for, so a
caller can tell its answer from another's; an ``inventory`` function of the ``limit`` asked
chooses the phone numbers instead), "502" or any other three-digit status a seed error
(``error_body`` and ``error_headers`` replace or add to it), "html" a 200 HTML page, "drop"
closes the connection halfway through the body, "stall" never answers (it waits for the client
to hang up), "drip" sends a good answer's body one byte every 50 ms, "garbage" sends bytes that
are not HTTP, "raw" sends ``raw`` (any bytes, however odd; a tuple of parts 50 ms apart, so
each comes in a read of its own) and hangs up ("raw-keep-open" then reads the next request),
"continue-forever" sends ``100 Continue`` heads every 10 ms until the client hangs up,
"hangup" reads the request and closes the connection without answering.
``latency`` (low, high) delays each answer by a seeded uniform draw. ``heads`` keeps every
request head read. Like a real server's keep-alive timeout, ``idle_close`` closes a connection
idle that long after an answer, hanging up on a request arriving in the next ``CROSSING``
seconds (one that crossed the close on the wire: loopback has no wire), and ``hangup_after``
hangs up on every request after that many on one connection (that race, made certain).
``serve()`` runs the server on the test's event loop; ``serve_in_thread()`` on an event loop of
its own, for load tests whose client keeps the test's loop busy.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager, suppress
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

SEED_ERROR = json.dumps(
    {"trackingId": "trk_loop", "error": {"code": "provider_error", "message": "x"}}
).encode()

CROSSING = 0.02  # seconds a request may cross an idle connection's close on the wire


def reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"


class Connections:
    """The connections a test server accepted, has open (and their peak), and the handler
    task and writer of each open one, which ``serve()`` ends with the server."""

    def __init__(self) -> None:
        self.connections = 0  # accepted in all
        self.open_connections = 0
        # The most connections open at once that the client had not hung up: one it closed
        # while its handler still slept (a response's latency) is not the client's any more.
        self.peak_connections = 0
        self.handlers: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self._readers: dict[asyncio.StreamWriter, asyncio.StreamReader | None] = {}

    @contextmanager
    def accepted(
        self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader | None = None
    ) -> Iterator[None]:
        """Counts the connection of ``writer`` (in its handler) while open; closes it after."""
        self.connections += 1
        self.open_connections += 1
        self._readers[writer] = reader
        held = sum(read is None or not read.at_eof() for read in self._readers.values())
        self.peak_connections = max(self.peak_connections, held)
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        self.writers.add(writer)
        try:
            yield
        finally:
            self.open_connections -= 1
            self.handlers.discard(task)
            self.writers.discard(writer)
            del self._readers[writer]
            writer.close()

    async def hang_up(self) -> None:
        """Abort every open connection and wait for their handlers. Hang up rather than cancel:
        a cancelled connection handler makes Python 3.11's asyncio log "Exception in callback"
        at ERROR, which tests of logging would see."""
        for writer in list(self.writers):
            writer.transport.abort()
        await asyncio.gather(*self.handlers, return_exceptions=True)


class LoopbackServer(Connections):
    """Counts the requests it reads, the connections it accepted and has open (and their peak)."""

    def __init__(
        self,
        script: list[str] | None = None,
        default: str = "ok",
        *,
        mix: dict[str, float] | None = None,
        seed: int = 0,
        error_headers: list[tuple[str, bytes]] | None = None,
        error_body: bytes | None = None,
        inventory: Callable[[int], list[str]] | None = None,
        latency: tuple[float, float] | None = None,
        raw: bytes | tuple[bytes, ...] = b"",
        idle_close: float | None = None,
        hangup_after: int | None = None,
    ) -> None:
        self.raw = raw
        self.inventory = inventory
        self.script = list(script or [])
        self.default = default
        self.mix = dict(mix or {})
        self.error_headers = list(error_headers or [])
        self.error_body = error_body
        self.latency = latency
        self.idle_close = idle_close
        self.hangup_after = hangup_after
        self.heads: list[bytes] = []
        self.requests = 0
        self.base_url = ""
        super().__init__()
        self._counter = 0
        self._random = random.Random(seed)

    def next_behaviour(self) -> str:
        if self.script:
            return self.script.pop(0)
        draw = self._random.random()
        for behaviour, probability in self.mix.items():
            if draw < probability:
                return behaviour
            draw -= probability
        return self.default

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = 0
        with (
            self.accepted(writer, reader),
            suppress(asyncio.IncompleteReadError, ConnectionError, TimeoutError),
        ):
            while True:
                head, crossed = await self.next_head(reader, answered)
                self.requests += 1
                self.heads.append(head)
                target = head.split(b" ", 2)[1].decode()
                hangup = self.hangup_after is not None and answered >= self.hangup_after
                behaviour = "hangup" if hangup or crossed else self.next_behaviour()
                if not await self.respond(behaviour, target, reader, writer):
                    return
                answered += 1

    async def next_head(self, reader: asyncio.StreamReader, answered: int) -> tuple[bytes, bool]:
        """The next request head, and whether it came after ``idle_close`` (TimeoutError when
        none came within ``CROSSING`` more seconds either)."""
        if not answered or self.idle_close is None:
            return await reader.readuntil(b"\r\n\r\n"), False
        try:
            return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_close), False
        except TimeoutError:
            return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CROSSING), True

    async def respond(
        self,
        behaviour: str,
        target: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Write one response; False when the connection must end."""
        if behaviour == "hangup":
            return False
        if self.latency is not None:
            await asyncio.sleep(self._random.uniform(*self.latency))
        if behaviour == "stall":
            while await reader.read(4096):  # until the client hangs up
                pass
            return False
        if behaviour == "garbage":
            writer.write(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
            await writer.drain()
            return False
        if behaviour in ("raw", "raw-keep-open"):
            parts = (self.raw,) if isinstance(self.raw, bytes) else self.raw
            for index, part in enumerate(parts):
                if index:
                    await asyncio.sleep(0.05)
                writer.write(part)
                await writer.drain()
            return behaviour == "raw-keep-open"
        if behaviour == "continue-forever":
            while not reader.at_eof():  # or a ConnectionError, once the client hangs up
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(0.01)
            return False
        content_type = b"application/json"
        extra = b""
        if behaviour.isdigit():
            status = b"%s %s" % (behaviour.encode(), reason(int(behaviour)))
            body = SEED_ERROR if self.error_body is None else self.error_body
            extra = b"".join(b"%s: %s\r\n" % (k.encode(), v) for k, v in self.error_headers)
        elif behaviour == "html":
            status, content_type = b"200 OK", b"text/html; charset=utf-8"
            body = b"<html><body><h1>Service Unavailable</h1></body></html>"
        else:
            status = b"200 OK"
            query = parse_qs(urlsplit(target).query)
            limit = int(query.get("limit", ["10"])[0])
            area = query.get("areaCode", ["415"])[0]
            if self.inventory is not None:
                phones = self.inventory(limit)
            else:
                start, self._counter = self._counter, self._counter + limit
                phones = [f"+1{area}{n:07d}" for n in range(start, start + limit)]
            numbers = [{"phoneNumber": phone} for phone in phones]
            body = json.dumps({"numbers": numbers}).encode()
        head = b"HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n"
        writer.write(head % (status, content_type, len(body), extra))
        if behaviour == "drop":
            writer.write(body[: len(body) // 2])
            await writer.drain()
            return False
        if behaviour == "drip":  # a byte every 50 ms: no single read ever waits long
            for index in range(len(body)):
                writer.write(body[index : index + 1])
                await writer.drain()
                await asyncio.sleep(0.05)
            return True
        writer.write(body)
        await writer.drain()
        return True


@asynccontextmanager
async def serve(
    server: LoopbackServer, tls: ssl.SSLContext | None = None
) -> AsyncIterator[LoopbackServer]:
    """Run ``server`` on an ephemeral 127.0.0.1 port for the duration of the block (over TLS
    with ``tls``, a server context)."""
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls, backlog=1024)
    port = tcp.sockets[0].getsockname()[1]
    server.base_url = f"{'http' if tls is None else 'https'}://127.0.0.1:{port}"
    try:
        yield server
    finally:
        tcp.close()
        await server.hang_up()
        await tcp.wait_closed()


@asynccontextmanager
async def serve_in_thread(server: LoopbackServer) -> AsyncIterator[LoopbackServer]:
    """Like ``serve()``, with the server on its own event loop in a thread of its own: a client
    whose tasks keep the test's loop busy cannot delay the server's answers past a timeout."""
    started: Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def run() -> None:
        stop = asyncio.Event()
        async with serve(server):
            started.set_result((asyncio.get_running_loop(), stop))
            await stop.wait()

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            if started.done():
                raise
            started.set_exception(exc)  # failed to start: the test gets the error, not a hang

    thread = threading.Thread(target=main, name="loopback-server", daemon=True)
    thread.start()
    loop, stop = await asyncio.wrap_future(started)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop.set)
        await asyncio.to_thread(thread.join)


@contextmanager
def server_in_a_thread(server: LoopbackServer) -> Iterator[LoopbackServer]:
    """``server`` on a thread's loop, from code with no loop running: a test that runs (and
    closes) loops of its own, or runs the command line."""
    with asyncio.Runner() as server_runner:
        serving = serve_in_thread(server)
        server_runner.run(serving.__aenter__())
        try:
            yield server
        finally:
            server_runner.run(serving.__aexit__(None, None, None))
