"""Python memory during an outage, the garbage collector at its defaults.

``python -m benchmarks.outage_memory [TRANSPORT ...]`` serves a 502 with a 50 KB error body
to every request on loopback, runs 3,000 searches through one client (``max_retries=0``), 300
at a time, each caller dropping its error, and prints the peak of traced Python memory, what
is left at the end and after one ``gc.collect()``, and the objects that collection found in
cycles. A failed search whose error sat in a reference cycle with the frames it passed kept its
response and body until a full collection: 186-189 MB at the peak at 2aa9ab3, 6-11 MB since.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import tracemalloc
from typing import cast, get_args

from numbers_async import NumbersClient, ProviderError, Transport

SEARCHES = 3000
AT_ONCE = 300
BODY = (
    b'{"trackingId":"trk_outage","error":{"code":"provider_error","message":"'
    + b"x" * 50_000
    + b'"}}'
)
ANSWER = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    % len(BODY)
    + BODY
)


_HANDLERS: set[asyncio.Task[None]] = set()


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A 502 for every request on the connection, kept alive."""
    task = asyncio.current_task()
    assert task is not None
    _HANDLERS.add(task)
    task.add_done_callback(_HANDLERS.discard)
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def measure(transport: Transport) -> str:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = NumbersClient(
        "sk_bench", base_url=f"http://127.0.0.1:{port}", transport=transport, max_retries=0
    )
    turns = asyncio.Semaphore(AT_ONCE)

    async def search() -> None:
        async with turns:
            with contextlib.suppress(ProviderError):  # dropped, as a service logs it, moves on
                await client.search("US", limit=5)

    gc.collect()
    tracemalloc.start()
    try:
        await asyncio.gather(*(search() for _ in range(SEARCHES)))
        current, peak = tracemalloc.get_traced_memory()
        in_cycles = gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        await client.aclose()  # its connections close: the handlers end
        if _HANDLERS:
            await asyncio.wait(_HANDLERS, timeout=5)
        server.close()
        await server.wait_closed()
    return (
        f"{transport}: {SEARCHES:,} failed searches, {AT_ONCE} at a time: "
        f"peak {peak / 1e6:.0f} MB, at the end {current / 1e6:.0f} MB, "
        f"after gc.collect() {after / 1e6:.1f} MB ({in_cycles:,} objects in cycles)"
    )


def main() -> None:
    for transport in sys.argv[1:] or get_args(Transport):
        print(asyncio.run(measure(cast(Transport, transport))), flush=True)


if __name__ == "__main__":
    main()
