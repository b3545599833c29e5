"""Searches through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY), on
every owned pool: a CONNECT tunnel to an https API, forwarding to an http one, the proxy's
credentials sent and never shown; a proxy refusing the tunnel is a ProxyError on every engine
(a caller's clients read the variables themselves), its 4xx not retried; a cancellation storm
through the tunnel leaks nothing. Which variable applies, and when none does:
test_environment.py."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trustme
from helpers import (
    ENGINES,
    STORM_POOL_LIMIT,
    SleepRecorder,
    engine_client,
    options_client,
    other_tasks,
    storm_then_search,
    until,
)
from loopback import LoopbackServer, serve
from proxy_support import ProxyServer, proxying
from secret_support import renderings

from numbers_async import (
    APIConnectionError,
    CertificateVerificationError,
    ClientClosedError,
    NumbersError,
    ProxyError,
    RetryPolicy,
)
from numbers_async._request import _through
from numbers_async._transports import shared_ssl_context

pytestmark = pytest.mark.timeout(30)

OWNED = ["httpx", "httpx2", "aiohttp"]
API_HOST = "numbers.test"  # resolved by no one but the proxy, which sends it to the test's API
USER, PASSWORD = "us@er", "pa:ss-w0rd"  # percent-encoded in the proxy's URL
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def with_credentials(proxy_url: str) -> str:
    return proxy_url.replace("://", "://us%40er:pa%3Ass-w0rd@", 1)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusting(
    authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The owned pools (and a caller's clients, which read it too) trust the test CA."""
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    shared_ssl_context.cache_clear()  # read once per process: read the test's
    yield
    shared_ssl_context.cache_clear()  # the next user reads the environment restored


@pytest.fixture(autouse=True)
def unresolvable_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """API_HOST resolves to nothing: a request that bypassed the proxy fails at once, and no
    test asks a real resolver."""
    resolve = socket.getaddrinfo

    def refusing(host: object, *args: object, **kwargs: object) -> object:
        if host in (API_HOST, API_HOST.encode()):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", refusing)


@asynccontextmanager
async def api(server: LoopbackServer, scheme: str, authority: trustme.CA) -> AsyncIterator[int]:
    """``server`` on 127.0.0.1, over TLS with a certificate for API_HOST if ``scheme`` is
    https; its port."""
    tls = server_context(authority, API_HOST) if scheme == "https" else None
    async with serve(server, tls):
        yield int(server.base_url.rpartition(":")[2])


def server_context(authority: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    return context


@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
@pytest.mark.parametrize("scheme", ["https", "http"])
@pytest.mark.parametrize("engine", OWNED)
async def test_searches_go_through_the_proxy_the_environment_names(
    engine: str,
    scheme: str,
    proxy_scheme: str,
    authority: trustme.CA,
    trusting: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through a CONNECT tunnel to an https API, or forwarded to an http one, with the
    Proxy-Authorization of the credentials in the proxy's URL; the connection kept alive. An
    https:// proxy is spoken to in TLS, its certificate verified as the API's is."""
    server = LoopbackServer()
    proxy_tls = None if proxy_scheme == "http" else server_context(authority, "127.0.0.1")
    async with (
        api(server, scheme, authority) as port,
        proxying(ProxyServer(port), proxy_tls) as proxy,
    ):
        monkeypatch.setenv(f"{scheme}_proxy", with_credentials(proxy.url))
        async with engine_client(engine, f"{scheme}://{API_HOST}") as c:
            found = [await c.search("US", limit=60) for _ in range(3)]
    assert [len({number.phone_number for number in numbers}) for numbers in found] == [60] * 3
    assert server.requests == 6  # a page of 50 and one of 10, each time
    first = proxy.heads[0]
    if scheme == "https":
        assert first.startswith(b"CONNECT numbers.test:443 HTTP/1.1\r\n")
    else:
        assert first.startswith(b"GET http://numbers.test/numbers/available?countryCode=US&")
    assert f"proxy-authorization: basic {BASIC}\r\n".lower().encode() in first.lower()
    assert proxy.connections == 1


@pytest.mark.parametrize("engine", OWNED)
async def test_an_https_proxy_s_certificate_is_verified(
    engine: str, authority: trustme.CA, trusting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy whose certificate no trusted CA signed: CertificateVerificationError after one
    attempt, the request never sent to it."""
    stranger = server_context(trustme.CA(), "127.0.0.1")
    async with proxying(ProxyServer(9), stranger) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with engine_client(engine, f"https://{API_HOST}") as client:
            with pytest.raises(CertificateVerificationError) as caught:
                await client.search("US")
    assert caught.value.attempts == 1
    assert proxy.heads == []


# A proxy's answer to every CONNECT: (status line, attempts a search makes, note).
REFUSALS = {
    407: (b"407 Proxy Authentication Required", 1, "check the user and password in its URL"),
    403: (b"403 Forbidden", 1, "does it let that host through?"),
    302: (b"302 Found", 1, "does it let that host through?"),  # a captive portal's
    502: (b"502 Bad Gateway", 3, None),  # the proxy could not reach the API: retried
}


@pytest.mark.parametrize("status", list(REFUSALS))
@pytest.mark.parametrize("engine", ENGINES)
async def test_a_proxy_refusing_the_tunnel_is_a_proxy_error_on_every_engine(
    engine: str, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ProxyError with the proxy's status, on the owned pools and a caller's clients alike (a
    RemoteProtocolError on aiohttp, retried on all); a 4xx is not retried (a 407 retried only
    repeats credentials a proxy may lock out), a 502 is. The credentials never show."""
    line, attempts, note = REFUSALS[status]
    refusal = b"HTTP/1.1 " + line + b"\r\nContent-Length: 0\r\n\r\n"
    async with proxying(ProxyServer(9, refuse=refusal)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", with_credentials(proxy.url))
        policy = RetryPolicy(sleep=SleepRecorder())
        client = engine_client(engine, f"https://{API_HOST}", retry_policy=policy)
        async with client:
            with pytest.raises(ProxyError) as caught:
                await client.search("US")
        await options_client(client).aclose()
    error = caught.value
    assert (error.proxy_status, error.attempts, proxy.connections) == (status, attempts, attempts)
    assert str(error).endswith(f"to {API_HOST}: {line.decode()}")
    notes = getattr(error, "__notes__", [])
    assert [n for n in notes if "not retried" in n] == ([] if note is None else [notes[0]])
    assert note is None or note in notes[0]
    shown = renderings(error)
    assert not [text for text in shown if PASSWORD in text or BASIC in text]


@pytest.mark.parametrize("engine", OWNED)
async def test_a_connection_error_through_the_proxy_names_it(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy refusing connections: the error names the API's host (where the request was
    going) and, in a note, the proxy's host and port (a dead proxy passed for a dead API);
    never its credentials."""
    monkeypatch.setenv("HTTPS_PROXY", with_credentials("http://127.0.0.1:9"))
    policy = RetryPolicy(sleep=SleepRecorder())
    async with engine_client(engine, f"https://{API_HOST}", retry_policy=policy) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.search("US")
    error = caught.value
    assert type(error) is APIConnectionError
    assert str(error).startswith(f"ConnectError after 3 attempt(s) to {API_HOST}: ")
    notes = getattr(error, "__notes__", [])
    assert notes[0] == (
        "numbers-async: sent through the proxy at 127.0.0.1:9 (the environment's HTTPS_PROXY, "
        "HTTP_PROXY or ALL_PROXY): the failure may be the proxy's"
    )
    assert not [text for text in renderings(error) if PASSWORD in text or BASIC in text]


@pytest.mark.parametrize(
    ("proxy_url", "shown"),
    [
        ("http://proxy.test", "proxy.test:80"),
        ("https://proxy.test", "proxy.test:443"),
        ("http://[2001:db8::1]:3128", "[2001:db8::1]:3128"),
    ],
)
def test_the_note_names_the_port_the_proxy_is_reached_on(proxy_url: str, shown: str) -> None:
    """A proxy URL without a port: the scheme's (an https:// one was said to be on 80)."""
    assert _through(httpx.Proxy(proxy_url)).startswith(
        f"numbers-async: sent through the proxy at {shown} ("
    )


@pytest.mark.parametrize("engine", OWNED)
async def test_a_cancellation_storm_through_the_tunnel_leaks_no_connection(
    engine: str, authority: trustme.CA, trusting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """test_storm.py's storm through a CONNECT tunnel: afterwards 200 searches all succeed,
    the proxy never sees more connections than the pool's limit, and none stays open."""
    server = LoopbackServer(latency=(0, 0.03), seed=7)
    async with api(server, "https", authority) as port, proxying(ProxyServer(port)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        client = engine_client(engine, f"https://{API_HOST}", timeout=10.0)
        async with client:
            failures = await storm_then_search(client)
        assert failures == []
        assert 0 < proxy.peak_connections <= STORM_POOL_LIMIT
        assert await until(lambda: proxy.open_connections == 0)
        assert other_tasks(besides=server.handlers | proxy.handlers) == []


# How the first tunnel fails, its TLS handshake with it (the proxy tunnels later ones).
TUNNEL_FAILURES = ["established-then-close", "wrong-certificate", "stalled", "cancelled"]


@pytest.mark.parametrize("failure", TUNNEL_FAILURES)
@pytest.mark.parametrize("engine", ENGINES)
async def test_a_tunnel_that_failed_its_handshake_leaves_the_pool_whole(
    engine: str,
    failure: str,
    authority: trustme.CA,
    trusting: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The proxy answers the CONNECT, then the TLS handshake through it fails (the proxy hangs
    up, a certificate for another host, a stall past the attempt's limit, the caller's
    timeout): the next searches succeed. On the owned httpx and httpx2 pools the tunnel's
    connection stayed busy for good (httpcore's bug, encode/httpcore#1023) and every later
    search timed out until the pool was idle for 5 s."""
    server, elsewhere = LoopbackServer(), LoopbackServer()
    async with (
        api(server, "https", authority) as port,
        serve(elsewhere, server_context(authority, "elsewhere.test")),
    ):
        first: str | int = failure
        if failure == "wrong-certificate":
            first = int(elsewhere.base_url.rpartition(":")[2])
        elif failure in ("stalled", "cancelled"):
            first = "established-then-stall"
        async with proxying(ProxyServer(port, script=[first])) as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            client = engine_client(engine, f"https://{API_HOST}", timeout=0.5, max_retries=0)
            async with client:
                with pytest.raises((NumbersError, TimeoutError)):
                    async with asyncio.timeout(0.2 if failure == "cancelled" else None):
                        await client.search("US", limit=5)
                found = [len(await client.search("US", limit=5)) for _ in range(3)]
            await options_client(client).aclose()
    assert found == [5, 5, 5]
    assert proxy.connections == 2  # the failed tunnel, then one kept alive


@pytest.mark.parametrize("engine", ENGINES)
async def test_closing_the_client_as_its_connects_wait_closes_their_sockets(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aclose() while searches wait for the proxy's answer to their CONNECT: each ends with
    ClientClosedError and the proxy sees every connection closed (aiohttp left them open: the
    searches unwound after its connector had closed, and it closes nothing then)."""
    async with proxying(ProxyServer(9, script=["no-answer"] * 5)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        client = engine_client(engine, f"https://{API_HOST}")
        searches = [asyncio.create_task(client.search("US")) for _ in range(5)]
        assert await until(lambda: len(proxy.heads) == 5)
        await client.aclose()
        outcomes = await asyncio.gather(*searches, return_exceptions=True)
        await options_client(client).aclose()
        assert {type(outcome) for outcome in outcomes} == {ClientClosedError}
        assert await until(lambda: proxy.open_connections == 0, within=2.0)
