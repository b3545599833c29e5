"""The loopback API the benchmarks run against: a raw asyncio Protocol, one process.

Run as ``python -m benchmarks.server``: it binds 127.0.0.1 on an ephemeral port, prints
``PORT <n>`` and serves until stdin closes (its parent is gone), SIGTERM, or ``--max-seconds``.

``GET [/delay-ms/<ms>]/numbers/available?countryCode=US&limit=N`` answers exactly ``N`` (1..50)
numbers, never the same number twice in the server's life (a request counter is part of each
phone number), so the facade's de-duplication always sees new numbers. Bodies are precomputed per
``limit`` with a placeholder for the counter, so a response costs one ``bytes.replace``. The
``/delay-ms/<ms>`` prefix adds that much latency to the response (W3, W6) without blocking others.
``GET /_stats`` returns the server's request and connection counts and its own CPU seconds, so a
run can show how busy the server was (it must not be the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
from urllib.parse import parse_qs

PAGE_MAX = 50
_PLACEHOLDER = b"@@@@@@@@@"  # nine digits of request counter go here
_ITEM = (
    '{"phoneNumber":"+1%s%02d","locality":"San Francisco","administrativeArea":"CA",'
    '"phoneNumberType":"local","features":["sms","voice","mms"]}'
)


def _templates() -> dict[int, bytes]:
    """The 200 body for each limit, with the counter placeholder in every phone number."""
    bodies = {}
    for limit in range(1, PAGE_MAX + 1):
        items = ",".join(_ITEM % (_PLACEHOLDER.decode(), i) for i in range(limit))
        bodies[limit] = ('{"numbers":[' + items + "]}").encode()
    return bodies


_BODIES = _templates()
_ERROR = (
    b'{"trackingId":"trk_bench","error":{"code":"invalid_request",'
    b'"message":"countryCode is required and limit must be 1..50"}}'
)


def _response(status: bytes, body: bytes, close: bool) -> bytes:
    head = b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n" % (
        status,
        len(body),
    )
    if close:
        head += b"connection: close\r\n"
    return head + b"\r\n" + body


class Stats:
    """Counters reported by ``GET /_stats``."""

    __slots__ = ("connections", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0


class NumbersProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests without a body, answered in order."""

    def __init__(self, stats: Stats, loop: asyncio.AbstractEventLoop) -> None:
        self.stats = stats
        self.loop = loop
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.pending_delay = 0.0  # the latest delayed response's due time: keeps replies in order

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            self.buffer = self.buffer[end + 4 :]
            self.handle(head)

    def handle(self, head: bytes) -> None:
        request_line, _, headers = head.partition(b"\r\n")
        try:
            _method, target, version = request_line.split(b" ", 2)
        except ValueError:
            self.send(_response(b"400 Bad Request", _ERROR, True), True, 0.0)
            return
        lowered = headers.lower()
        close = b"connection: close" in lowered or version == b"HTTP/1.0"
        path, _, query = target.partition(b"?")
        self.stats.requests += 1
        if path == b"/_stats":
            stats = {
                "requests": self.stats.requests,
                "connections": self.stats.connections,
                "cpu_s": time.process_time(),
            }
            self.send(_response(b"200 OK", json.dumps(stats).encode(), close), close, 0.0)
            return
        delay = 0.0
        if path.startswith(b"/delay-ms/"):
            millis, _, path = path[len(b"/delay-ms/") :].partition(b"/")
            delay = int(millis) / 1000
            path = b"/" + path
        if path != b"/numbers/available":
            self.send(_response(b"404 Not Found", b"{}", close), close, delay)
            return
        params = parse_qs(query.decode("latin-1"))
        try:
            limit = int(params.get("limit", ["10"])[0])
        except ValueError:
            limit = 0
        if "countryCode" not in params or not 1 <= limit <= PAGE_MAX:
            self.send(_response(b"400 Bad Request", _ERROR, close), close, delay)
            return
        counter = b"%09d" % self.stats.requests
        body = _BODIES[limit].replace(_PLACEHOLDER, counter)
        self.send(_response(b"200 OK", body, close), close, delay)

    def send(self, payload: bytes, close: bool, delay: float) -> None:
        if delay <= 0 and self.pending_delay <= self.loop.time():
            self.write(payload, close)
            return
        due = max(self.loop.time() + delay, self.pending_delay)
        self.pending_delay = due
        self.loop.call_at(due, self.write, payload, close)

    def write(self, payload: bytes, close: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(payload)
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(max_seconds: float) -> None:
    """Serve on 127.0.0.1 until stdin closes, SIGTERM, or ``max_seconds`` pass."""
    loop = asyncio.get_running_loop()
    stats = Stats()
    server = await loop.create_server(
        lambda: NumbersProtocol(stats, loop), "127.0.0.1", 0, backlog=1024
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def watch_stdin() -> None:  # EOF on stdin means the harness is gone
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max_seconds)
    server.close()


def main() -> None:
    """Parse arguments, pin to a CPU if asked, serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    asyncio.run(serve(args.max_seconds))


if __name__ == "__main__":
    main()
