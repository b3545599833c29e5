"""TLS failures through a client, on every engine: a certificate refused is not retried (no
attempt can change it), a handshake the server breaks off is (as any dropped connection)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trustme
from cli_support import clean_env, run_main
from helpers import API_KEY, ENGINES, SleepRecorder, engine_client, options_client
from loopback import LoopbackServer, serve
from secret_support import engine_errors_held, renderings

from numbers_async import (
    APIConnectionError,
    APITimeoutError,
    CertificateVerificationError,
    RetryPolicy,
)
from numbers_async._cycles import own_chain
from numbers_async._request import _connection_error
from numbers_async.cli._args import API_ERROR

pytestmark = pytest.mark.timeout(20)


class _Peer(asyncio.Protocol):
    """One accepted connection: closed at once when no TLS is served, else (after the
    handshake) held until the client leaves."""

    def __init__(self, accepted: list[int], tls: bool) -> None:
        accepted.append(1)
        self.tls = tls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.tls:
            transport.close()


@asynccontextmanager
async def tls_peer(context: ssl.SSLContext | None) -> AsyncIterator[tuple[int, list[int]]]:
    """A loopback server that counts the connections it accepts, then answers the TLS
    handshake with ``context`` (None: closes the connection instead); its port and the count.
    The server's loop runs the handshake from the accept on: a handler calling start_tls
    after the accept lost a ClientHello read before it began, when the client ran on
    another thread (the handshake then waited out the client's timeout)."""
    accepted: list[int] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Peer(accepted, context is not None), "127.0.0.1", 0, ssl=context
    )
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        server.close()
        await server.wait_closed()


def untrusted() -> ssl.SSLContext:
    """A server context whose certificate (for localhost) no CA the clients trust signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(context)
    return context


async def failed_search(
    engine: str, context: ssl.SSLContext | None
) -> tuple[APIConnectionError, int, list[float]]:
    """A search on ``engine`` against ``tls_peer(context)``: its error, the connections the
    server accepted, the retry delays waited."""
    sleep = SleepRecorder()
    async with tls_peer(context) as (port, accepted):
        client = engine_client(
            engine, f"https://localhost:{port}", retry_policy=RetryPolicy(sleep=sleep)
        )
        async with client:
            with pytest.raises(APIConnectionError) as caught:
                await client.search("US")
    return caught.value, len(accepted), sleep.delays


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_refused_certificate_fails_at_once_without_a_retry(engine: str) -> None:
    """A certificate no trusted CA signed: CertificateVerificationError (an APIConnectionError)
    after one attempt and one connection, no retry waited for, a note saying why; the key
    nowhere in it, and no aiohttp error (the ssl module's error is kept, as a copy)."""
    error, accepted, delays = await failed_search(engine, untrusted())
    assert isinstance(error, CertificateVerificationError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert (error.attempts, accepted, delays) == (1, 1, [])
    assert any("not retried" in note for note in error.__notes__)
    assert [text for text in renderings(error) if API_KEY in text] == []
    assert engine_errors_held(error) == []


@pytest.mark.parametrize("compiled", ["uvloop/sslproto.pyx", "aiohttp/_http_parser.pyx"])
def test_a_refused_certificate_is_told_through_an_engine_s_compiled_frames(compiled: str) -> None:
    """On uvloop the ssl module's error is raised through Cython frames, which name their source
    relative to the package ("uvloop/sslproto.pyx"), and httpcore raises its own error from
    None: the certificate error, reached as that error's context, is still the engines' own."""
    importlib.import_module(compiled.partition("/")[0])  # loaded, as where its frames run
    handshake: dict[str, Any] = {"ssl": ssl}
    exec(compile(HANDSHAKE, compiled, "exec"), handshake)
    connect: dict[str, Any] = {"handshake": handshake["handshake"], "ssl": ssl, "httpx": httpx}
    in_httpx = os.path.join(os.path.dirname(httpx.__file__), "_connect.py")
    exec(compile(CONNECT, in_httpx, "exec"), connect)
    with pytest.raises(httpx.ConnectError) as caught:
        connect["connect"]()
    chain = list(own_chain(caught.value))
    assert [type(link) for link in chain] == [httpx.ConnectError, ssl.SSLCertVerificationError]
    error = _connection_error(caught.value, 1, httpx.Request("GET", "https://api.example/"))
    assert isinstance(error, CertificateVerificationError)


HANDSHAKE = """
def handshake():
    raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] verify failed")
"""
CONNECT = """
def connect():
    try:
        handshake()
    except ssl.SSLError as exc:
        raise httpx.ConnectError(str(exc)) from None
"""


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_handshake_the_server_breaks_off_is_retried(engine: str) -> None:
    """A connection closed before any TLS answer is no verdict on the certificate: an
    APIConnectionError, retried as a dropped connection is, whose message says what ended it
    (httpcore's and asyncio's errors carry none; aiohttp's names the host)."""
    error, accepted, delays = await failed_search(engine, None)
    assert not isinstance(error, CertificateVerificationError)
    assert "no detail" not in str(error)
    if engine != "aiohttp":
        # asyncio reads a reset or an EOF in the handshake; uvloop sees the connection closed
        said = ("ResetError", "EOFError", "closed the conn", "reset by peer")
        assert any(words in str(error) for words in said)
    assert (error.attempts, accepted, len(delays)) == (3, 3, 2)


async def test_the_command_line_says_what_to_fix_for_a_refused_certificate() -> None:
    """Exit status 1 after one attempt, the error and a fix line naming --base-url and
    SSL_CERT_FILE."""
    async with tls_peer(untrusted()) as (port, accepted):
        env = clean_env(NUMBERS_API_KEY=API_KEY)
        url = f"https://localhost:{port}"
        done = await asyncio.to_thread(run_main, "search", "US", "--base-url", url, env=env)
    assert (done.returncode, done.stdout, len(accepted)) == (API_ERROR, "", 1)
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
    assert "fix: the server's certificate is not trusted here" in done.stderr
    assert "SSL_CERT_FILE" in done.stderr


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_stalled_handshake_ends_at_the_timeout_saying_no_response_came(
    engine: str,
) -> None:
    """A server that never answers the ClientHello: timeout=0.3 ends the attempt, whose error
    says no response head came within the whole attempt's limit (it said "the whole attempt
    took more than", read as a slow body)."""
    async with serve(LoopbackServer(["stall"])) as server:
        base_url = server.base_url.replace("http://", "https://")
        async with engine_client(engine, base_url, timeout=0.3, max_retries=0) as client:
            started = time.perf_counter()
            with pytest.raises(APITimeoutError, match=r"no response head within 0\.3 s"):
                await client.search("US")
            assert time.perf_counter() - started < 1.5
        await options_client(client).aclose()


@pytest.mark.parametrize("engine", ENGINES)
async def test_plain_http_on_an_https_url_is_named_in_a_note(engine: str) -> None:
    """A server speaking plain HTTP first where TLS was expected (OpenSSL: WRONG_VERSION_NUMBER):
    an APIConnectionError at once whose note asks whether base_url should be http:// (the owned
    pools' handshake waited out the timeout: the bytes came before it began, and were lost)."""

    left = asyncio.Event()

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        with contextlib.suppress(ConnectionError):  # open until the client leaves: closing
            await reader.read()  # first could reset the connection before the client read it
        writer.close()
        left.set()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with engine_client(engine, f"https://127.0.0.1:{port}", max_retries=0) as client:
            with pytest.raises(APIConnectionError) as caught:
                await client.search("US")
        await options_client(client).aclose()
        await asyncio.wait_for(left.wait(), 5)  # the client closed its socket
    finally:
        server.close()
        await server.wait_closed()
    assert "WRONG_VERSION_NUMBER" in str(caught.value)
    assert any("an http:// URL" in note for note in caught.value.__notes__)
