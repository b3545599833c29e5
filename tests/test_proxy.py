"""Searches through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY), on
every owned pool: a CONNECT tunnel to an https API, forwarding to an http one, the proxy's
credentials sent and never shown; a proxy refusing the tunnel is a ProxyError on every engine
(a caller's clients read the variables themselves), its 4xx not retried; a cancellation storm
through the tunnel leaks nothing. Which variable applies, and when none does:
test_environment.py."""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

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

from numbers_async import CertificateVerificationError, ProxyError, RetryPolicy
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
