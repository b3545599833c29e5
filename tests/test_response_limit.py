"""max_response_bytes: a response whose decoded body passes the limit fails the attempt with
ResponseValidationError naming it, read no further than the limit (peak memory bounded, on
every transport, for a 50 MB body, a 1,000,000-item page and a gzip bomb), and its connection
is closed, not pooled."""

from __future__ import annotations

import asyncio
import functools
import gzip
import socket
import struct
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest
from helpers import API_KEY, SleepRecorder
from loopback import LoopbackServer, serve

from numbers_async import (
    APIStatusError,
    BadRequestError,
    InvalidRequestError,
    NumbersClient,
    ProviderError,
    ResponseValidationError,
    RetryPolicy,
)
from numbers_async._body import DEFAULT_MAX_RESPONSE_BYTES
from numbers_async._transports import Transport

MiB = 1024 * 1024
CHUNK = 64 * 1024
SMALL_PAGE = b'{"numbers": [{"phoneNumber": "+14155550100"}]}'


def fifty_megabytes() -> tuple[int, Iterator[bytes]]:
    """A 50 MB body of valid numbers, streamed in 64 KiB chunks (one reused object)."""
    item = b'{"phoneNumber": "+14155550100"},'
    block = item * (CHUNK // len(item))
    count = 50_000_000 // len(block)
    last = b'{"phoneNumber": "+14155550199"}]}'
    return 13 + len(block) * count + len(last), iter([b'{"numbers": [', *[block] * count, last])


def million_items() -> tuple[int, Iterator[bytes]]:
    """A page of 1,000,000 distinct numbers, generated as it is sent."""
    items = (b'{"phoneNumber": "+1%010d"}' % i for i in range(1_000_000))
    size = 13 + 1_000_000 * (len(b'{"phoneNumber": "+1%010d"}' % 0) + 1) - 1 + 2

    def chunks() -> Iterator[bytes]:
        yield b'{"numbers": ['
        batch: list[bytes] = []
        for i, item in enumerate(items):
            batch.append(item)
            if len(batch) == 2000 or i == 999_999:
                yield (b",".join(batch) + (b"," if i < 999_999 else b""))
                batch = []
        yield b"]}"

    return size, chunks()


@functools.cache
def bomb() -> bytes:
    """0.5 MB of gzip that inflates to 500 MiB of spaces: one 1 MiB block compressed after a
    full flush (so it stands alone) repeated, then the trailer with the true CRC and size."""
    block, count = b" " * MiB, 500
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    unit = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush()[:-8]
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    packed = head + unit * (count - 1) + end + struct.pack("<II", crc, (count * MiB) % 2**32)
    assert len(packed) < MiB
    return packed


def gzip_bomb() -> tuple[int, Iterator[bytes]]:
    data = bomb()
    return len(data), iter([data[i : i + CHUNK] for i in range(0, len(data), CHUNK)])


BODIES: dict[str, tuple[Callable[[], tuple[int, Iterator[bytes]]], bytes]] = {
    "50MB": (fifty_megabytes, b""),
    "million-items": (million_items, b""),
    "gzip-bomb": (gzip_bomb, b"Content-Encoding: gzip\r\n"),
}


class StreamingServer:
    """Answers the first request with ``body`` streamed as the client reads it, every later one
    with a one-number page; counts connections and those the client cut before the end."""

    def __init__(self, body: Callable[[], tuple[int, Iterator[bytes]]], headers: bytes) -> None:
        self.body = body
        self.headers = headers
        self.requests = 0
        self.connections = 0
        self.cut_off = 0
        self.base_url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        # A small send buffer: the server makes little more of a body than the client reads.
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                if self.requests == 1:
                    size, chunks = self.body()
                    extra = self.headers
                else:
                    size, chunks, extra = len(SMALL_PAGE), iter([SMALL_PAGE]), b""
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                writer.write(head + extra + b"Content-Length: %d\r\n\r\n" % size)
                for chunk in chunks:
                    writer.write(chunk)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            if self.requests == 1:
                self.cut_off += 1
        finally:
            writer.close()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[StreamingServer]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with server:
            yield self


@pytest.mark.timeout(60)
@pytest.mark.parametrize("body", list(BODIES))
async def test_an_oversize_body_fails_with_bounded_memory_and_a_closed_connection(
    transport: str, body: str
) -> None:
    """The default limit: ResponseValidationError naming it, not retried, peak memory under
    three times the limit (the whole body was 32 MB to 500 MB), the connection closed; the
    next search gets a new connection and succeeds."""
    make, headers = BODIES[body]
    if body == "gzip-bomb":
        bomb()  # built before measuring
    server = StreamingServer(make, headers)
    async with server.serving():
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            transport=cast(Transport, transport),
            retry_policy=RetryPolicy(sleep=SleepRecorder()),
        )
        async with client:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseValidationError) as caught:
                    await client.search("US", limit=10)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert len(await client.search("US", limit=1)) == 1
        assert f"max_response_bytes={DEFAULT_MAX_RESPONSE_BYTES}" in str(caught.value)
    print(f"\n{transport} {body}: peak {peak / MiB:.1f} MiB")
    assert caught.value.attempts == 1
    assert peak < 3 * DEFAULT_MAX_RESPONSE_BYTES
    assert (server.requests, server.connections, server.cut_off) == (2, 2, 1)


def page_of(size: int) -> Callable[[httpx.Request], httpx.Response]:
    """A valid page whose body is exactly ``size`` bytes (padded with spaces)."""
    return lambda request: httpx.Response(200, content=SMALL_PAGE.ljust(size))


@pytest.mark.parametrize(
    ("limit", "size", "passes"),
    [(100, 100, True), (100, 101, False), (None, 3 * MiB, True), (MiB, MiB + 1, False)],
)
async def test_the_limit_counts_decoded_bytes_and_none_disables_it(
    make_client: Callable[..., NumbersClient], limit: int | None, size: int, passes: bool
) -> None:
    """A body of exactly the limit passes, one byte more fails; None reads any size."""
    client = make_client(page_of(size), max_response_bytes=limit)
    if passes:
        assert len(await client.search("US", limit=1)) == 1
    else:
        with pytest.raises(ResponseValidationError, match=f"max_response_bytes={limit}"):
            await client.search("US", limit=1)


async def test_a_gzip_body_is_limited_after_decoding(
    make_client: Callable[..., NumbersClient],
) -> None:
    """200 bytes of gzip inflating past the limit fail; the same page under it passes."""
    packed = gzip.compress(SMALL_PAGE.ljust(5000))
    assert len(packed) < 200

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Encoding": "gzip"}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(packed))

    with pytest.raises(ResponseValidationError, match="max_response_bytes=4999"):
        await make_client(handler, max_response_bytes=4999).search("US", limit=1)
    assert len(await make_client(handler, max_response_bytes=5000).search("US", limit=1)) == 1


@pytest.mark.parametrize(("status", "cls"), [(502, ProviderError), (400, BadRequestError)])
async def test_an_oversize_error_body_keeps_its_status_class(
    make_client: Callable[..., NumbersClient], status: int, cls: type[APIStatusError]
) -> None:
    """A 502 or 400 with a body past the limit is still that status's error, read from the
    body's first bytes (a 502 is retried, as any 502)."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = b'{"trackingId": "trk_big", "error": {"code": "x"}}'.ljust(1000)
        return httpx.Response(status, stream=httpx.ByteStream(body))

    with pytest.raises(cls) as caught:
        await make_client(handler, max_response_bytes=999).search("US", limit=1)
    assert caught.value.status_code == status
    assert (caught.value.tracking_id, len(caught.value.body)) == ("trk_big", 999)
    assert len(calls) == (3 if status == 502 else 1)


async def test_an_oversize_error_body_keeps_the_same_first_bytes_on_every_engine(
    transport: str,
) -> None:
    """A 400 whose body passes the limit keeps exactly its first max_response_bytes as
    ``body``, whatever chunks the engine read it in (aiohttp kept 1,042,357 bytes of a 2 MB
    body, httpx 1,009,589: what came before the chunk that crossed the limit)."""
    body = b'{"trackingId": "trk_big", "error": {"code": "x"}}'.ljust(300_000)
    async with serve(LoopbackServer(["400"], error_body=body)) as server:
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            transport=cast(Transport, transport),
            max_response_bytes=100_000,
        )
        async with client:
            with pytest.raises(BadRequestError) as caught:
                await client.search("US", limit=1)
    assert caught.value.body == body[:100_000]
    assert caught.value.tracking_id == "trk_big"


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1048576", float("inf")])
def test_max_response_bytes_is_validated(value: Any) -> None:
    """An int >= 1 or None; anything else is refused naming the argument."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(API_KEY, base_url="http://numbers.test", max_response_bytes=value)
    assert caught.value.argument == "max_response_bytes"
