"""A real HTTP/1.1 server on 127.0.0.1 for tests where sockets matter, scripted per request.

Each request takes the next behaviour from ``script`` (then ``default``): "ok" answers 200
with ``limit`` distinct numbers, "502" a seed error, "drop" closes the connection halfway
through the body, "stall" never answers, "garbage" sends bytes that are not HTTP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit


class LoopbackServer:
    """Counts the requests it reads and the connections it has open."""

    def __init__(self, script: list[str] | None = None, default: str = "ok") -> None:
        self.script = list(script or [])
        self.default = default
        self.requests = 0
        self.open_connections = 0
        self.base_url = ""
        self.handlers: set[asyncio.Task[None]] = set()
        self._counter = 0

    def next_behaviour(self) -> str:
        return self.script.pop(0) if self.script else self.default

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                target = head.split(b" ", 2)[1].decode()
                if not await self.respond(self.next_behaviour(), target, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open_connections -= 1
            self.handlers.discard(task)
            writer.close()

    async def respond(self, behaviour: str, target: str, writer: asyncio.StreamWriter) -> bool:
        """Write one response; False when the connection must end."""
        if behaviour == "stall":
            await asyncio.sleep(3600)
        if behaviour == "garbage":
            writer.write(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
            await writer.drain()
            return False
        if behaviour == "502":
            status = b"502 Bad Gateway"
            body = json.dumps(
                {"trackingId": "trk_loop", "error": {"code": "provider_error", "message": "x"}}
            ).encode()
        else:
            status = b"200 OK"
            limit = int(parse_qs(urlsplit(target).query).get("limit", ["10"])[0])
            start, self._counter = self._counter, self._counter + limit
            numbers = [{"phoneNumber": f"+1415{n:07d}"} for n in range(start, start + limit)]
            body = json.dumps({"numbers": numbers}).encode()
        head = b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        writer.write(head % (status, len(body)))
        if behaviour == "drop":
            writer.write(body[: len(body) // 2])
            await writer.drain()
            return False
        writer.write(body)
        await writer.drain()
        return True


@asynccontextmanager
async def serve(server: LoopbackServer) -> AsyncIterator[LoopbackServer]:
    """Run ``server`` on an ephemeral 127.0.0.1 port for the duration of the block."""
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    server.base_url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        tcp.close()
        for handler in list(server.handlers):
            handler.cancel()
        await asyncio.gather(*server.handlers, return_exceptions=True)
        await tcp.wait_closed()
