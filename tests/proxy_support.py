"""An HTTP proxy on 127.0.0.1 for the proxy tests: it tunnels CONNECT requests and forwards
the others, all to one upstream port whatever host they name (the tests' API has a name no
resolver knows), and counts the connections clients open to it."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from loopback import Connections

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


class ProxyServer(Connections):
    """Keeps the first request head of each connection; ``refuse`` (a whole response) answers
    every request instead of passing it on. Each connection takes the next of ``script`` (then
    "pass"): "pass" passes it on, "no-answer" reads the request and waits for the client to
    hang up, "established-then-close" and "established-then-stall" answer a CONNECT with 200
    and then hang up or wait for the client to, and a port number tunnels to that port."""

    def __init__(
        self, upstream_port: int, refuse: bytes | None = None, script: list[str | int] | None = None
    ) -> None:
        super().__init__()
        self.upstream_port = upstream_port
        self.refuse = refuse
        self.script = list(script or [])
        self.heads: list[bytes] = []
        self.url = ""  # http://127.0.0.1:<port> once started

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self.accepted(writer, reader), suppress(asyncio.IncompleteReadError, ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            behaviour = self.script.pop(0) if self.script else "pass"
            if self.refuse is not None:
                writer.write(self.refuse)
                await writer.drain()
                return
            if isinstance(behaviour, str) and behaviour != "pass":
                if behaviour.startswith("established-"):
                    writer.write(ESTABLISHED)
                    await writer.drain()
                if behaviour != "established-then-close":
                    await reader.read()  # until the client hangs up
                return
            port = self.upstream_port if behaviour == "pass" else behaviour
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", port)
            self.writers.add(upstream)  # hung up with the proxy, as the client's end is
            try:
                if head.startswith(b"CONNECT "):
                    writer.write(ESTABLISHED)
                else:  # forwarded as it came (the test server reads an absolute URL as a path)
                    upstream.write(head)
                await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))
            finally:
                self.writers.discard(upstream)
                upstream.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Bytes from ``source`` to ``sink`` until either end closes; then ``sink`` is closed."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()


@asynccontextmanager
async def proxying(
    proxy: ProxyServer, tls: ssl.SSLContext | None = None
) -> AsyncIterator[ProxyServer]:
    """Run ``proxy`` on an ephemeral 127.0.0.1 port for the duration of the block (clients
    speaking TLS to it with ``tls``, a server context)."""
    tcp = await asyncio.start_server(proxy.handle, "127.0.0.1", 0, ssl=tls, backlog=1024)
    scheme = "http" if tls is None else "https"
    proxy.url = f"{scheme}://127.0.0.1:{tcp.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        tcp.close()
        await proxy.hang_up()
        await tcp.wait_closed()
