"""The connection pool a client owns: plain httpx, or httpx over httpx2 or aiohttp (the fast
engines), and a caller's own client of either httpx.

Each engine's modules are imported only when a client selects it (httpcore and h11 too: httpx
imports them only for its own pools), so ``import numbers_async`` loads none of them.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import ssl
import warnings
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Literal

import httpx
from httpx._utils import URLPattern, get_environment_proxies  # httpx 0.28's, frozen

from . import _validation as check
from ._shards import ONE_CONNECTION, ShardedTransport
from .errors import InvalidRequestError

Transport = Literal["httpx", "httpx2", "aiohttp"]
# Every engine holds 100 connections and keeps each alive for reuse (httpx's default keeps 20
# of its 100: 5,000 searches at once opened 4,982 connections). httpx and httpx2 hold them as
# 100 pools of one connection (_shards.py); aiohttp's connector is one pool that scales.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
POOL_SIZE = POOL_LIMITS.max_connections or 0
# The environment variables the pools a client owns read (an InvalidRequestError names one).
ENVIRONMENT = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The verifying SSL context of every pool the clients of this process own (httpx's
    default, read once: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as set then). Building one loads
    the CA bundle, tens of ms of CPU: once per pool made each client cost that (up to 100
    times for its 100 pools of one connection). Only HTTP/1.1 pools may share it: httpcore
    sets its ALPN protocols on each connect, which pools negotiating HTTP/2 would race on.
    A CA file or folder the environment names but that cannot be loaded is an
    InvalidRequestError naming the variable (it was a raw FileNotFoundError or SSLError), and
    so is an SSL_CERT_DIR naming no folder (one, or a list separated as PATH is; OpenSSL reads
    them only when verifying: every handshake then failed, trusting no CA)."""
    folders = os.environ.get("SSL_CERT_DIR")  # one folder, or OpenSSL's list of them
    if (
        folders
        and not os.environ.get("SSL_CERT_FILE")
        and not any(os.path.isdir(folder) for folder in folders.split(os.pathsep) if folder)
    ):
        raise InvalidRequestError(
            "SSL_CERT_DIR",
            f"SSL_CERT_DIR: {check.shown(folders)} names no folder: no CA certificate would be "
            "trusted",
        )
    try:
        return httpx.create_ssl_context()
    except OSError as exc:  # ssl.SSLError too
        named = [name for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(name)]
        if not named:  # certifi's own bundle: nothing of the caller's to name
            raise
        variable = named[0]
        raise InvalidRequestError(
            variable,
            f"{variable}: {check.shown(os.environ.get(variable, ''))} holds no CA certificates "
            f"this process can load ({type(exc).__name__}: {exc})",
        ) from None


class _NoCookies(httpx.Cookies):
    """Cookies that stay empty: a jar refusing every cookie, and no Set-Cookie header read."""

    def __init__(self) -> None:
        super().__init__(CookieJar(DefaultCookiePolicy(allowed_domains=[])))

    def extract_cookies(self, response: httpx.Response) -> None:
        """Nothing to keep: skips building urllib's request and response adapters for the jar,
        5 % of a search's instructions (W1 facade-httpx2 under callgrind: 3.90 -> 3.70 M)."""


class NoCookieClient(httpx.AsyncClient):
    """An httpx client keeping no cookie: a service-wide client must not carry one response's
    Set-Cookie into every later request (a non-ASCII one would make them all unsendable)."""

    def __init__(self, **options: Any) -> None:
        self._kept = _NoCookies()
        super().__init__(**options)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._kept

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise AttributeError("this client keeps no cookies")


class OwnedClient(NoCookieClient):
    """The httpx client of a pool a NumbersClient owns. ``send`` hands what the library asks
    of it (a streamed request; no auth, redirect, event hook, cookie or mount here) to the
    pool as httpx's own send does, without its four layers of coroutines, its auth flow and
    the stream it wraps the body in to time it (``_request`` sets ``elapsed``): 3.6 % of a
    search's instructions (facade-aiohttp W1 under callgrind, 1.959 -> 1.888 M)."""

    proxy: httpx.Proxy | None = None  # the one it goes through (environment_proxy)

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        asked = (auth, follow_redirects)
        if not stream or asked != (httpx.USE_CLIENT_DEFAULT, httpx.USE_CLIENT_DEFAULT):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        if self.is_closed:  # httpx's words
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        request.extensions.setdefault("timeout", self.timeout.as_dict())
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.RequestError as exc:  # as httpx's request_context: the error's request
            exc.request = request
            raise
        response.request = request
        if _HTTPX_LOG.isEnabledFor(logging.INFO):  # httpx's own line for each request
            _HTTPX_LOG.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response


_HTTPX_LOG = logging.getLogger("httpx")


def owned_http_client(
    transport: object, timeout: httpx.Timeout, headers: httpx.Headers, proxy: httpx.Proxy | None
) -> httpx.AsyncClient:
    """A new pooled AsyncClient on the chosen transport, sending ``headers`` on every request,
    through ``proxy`` if not None (``environment_proxy``)."""
    engine: httpx.AsyncBaseTransport
    if transport == "httpx":
        from ._httpx_pool import FramedHTTPTransport

        engine = ShardedTransport(
            lambda: FramedHTTPTransport(ONE_CONNECTION, shared_ssl_context(), proxy),
            POOL_SIZE,
        )
    elif transport == "httpx2":
        try:
            from ._httpx2 import Httpcore2Transport
        except ImportError as exc:
            raise _missing_extra("httpx2") from exc
        engine = ShardedTransport(
            lambda: Httpcore2Transport(ONE_CONNECTION, shared_ssl_context(), proxy), POOL_SIZE
        )
    elif transport == "aiohttp":
        try:
            from ._aiohttp import AiohttpTransport
        except ImportError as exc:
            raise _missing_extra("aiohttp") from exc
        engine = AiohttpTransport(limits=POOL_LIMITS, verify=shared_ssl_context(), proxy=proxy)
    else:
        raise InvalidRequestError(
            "transport", f"transport must be 'httpx', 'httpx2' or 'aiohttp', got {transport!r}"
        )
    # With a transport given, httpx reads no proxy variables: environment_proxy() did.
    client = OwnedClient(transport=engine, timeout=timeout, headers=headers)
    client.proxy = proxy
    return client


def environment_proxy(base_url: str) -> httpx.Proxy | None:
    """The proxy the pools a client owns go through to ``base_url``: the one HTTPS_PROXY,
    HTTP_PROXY or ALL_PROXY (any case) names for its scheme, unless NO_PROXY covers its host,
    read as an ``httpx.AsyncClient()`` reads them (httpx's own functions: its NO_PROXY forms are
    not urllib's); None when there is none, or when ``base_url`` is on loopback. An
    ``http://`` or ``https://`` proxy is used (a CONNECT tunnel to an https origin): a SOCKS
    one warns, and the pools connect directly. A value no client could use is an
    InvalidRequestError naming the variable, never its value (it may hold the proxy's password;
    nor does any frame of its traceback hold it)."""
    named = _named_proxy(base_url)
    if named is None:
        return None
    variable, proxy = named
    if proxy is None:
        raise InvalidRequestError(
            variable,
            f"{variable} names a proxy for {base_url} that is not an http:// or https:// URL "
            "with a host (its value is not shown: it may hold a password)",
        )
    if proxy.url.scheme in ("http", "https"):
        return proxy
    warnings.warn(
        f"{variable} names a {proxy.url.scheme} proxy for {base_url}, and the pools a "
        "NumbersClient owns use only http:// and https:// proxies: it connects directly. To go "
        "through the proxy, pass http_client=httpx.AsyncClient() (it reads the proxy "
        "variables; SOCKS needs socksio installed).",
        RuntimeWarning,
        stacklevel=3,
    )
    return None


def _named_proxy(base_url: str) -> tuple[str, httpx.Proxy | None] | None:
    """The variable naming a proxy for ``base_url`` and that proxy (None if its value is not
    one a client can use: httpx refuses it, or it names no host), or None when none does."""
    url = httpx.URL(base_url)
    if _is_loopback(url.host):  # no proxy can reach this machine's loopback (as Go's net/http)
        return None
    mounts = [(_pattern(key), proxy) for key, proxy in get_environment_proxies().items()]
    for pattern, value in sorted(mounts, key=lambda mount: mount[0]):  # httpx's order
        if pattern.matches(url):
            if value is None:  # NO_PROXY
                return None
            variable = _spelled(f"{(pattern.scheme or 'all').upper()}_PROXY")
            try:
                proxy = httpx.Proxy(value)
            except (ValueError, httpx.InvalidURL):  # a scheme httpx does not know, no URL
                return variable, None
            return variable, proxy if proxy.url.host else None
    return None


def _spelled(variable: str) -> str:
    """``variable`` as the environment spells the one read: its lower-case form wins, as in
    urllib's reading, which httpx's is."""
    lower = variable.lower()
    return lower if os.environ.get(lower) else variable


def _pattern(key: str) -> URLPattern:
    """httpx's pattern for a key of its environment proxies; InvalidRequestError for a NO_PROXY
    entry it cannot read (httpx.AsyncClient() raises httpx.InvalidURL)."""
    try:
        return URLPattern(key)
    except httpx.InvalidURL:
        entry = key.removeprefix("all://").removeprefix("*")
        raise InvalidRequestError(
            "NO_PROXY",
            f"NO_PROXY holds {check.shown(entry)}, which is no host name, address or URL (an "
            "IPv6 address goes without brackets there: ::1)",
        ) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return False


def caller_http_client(http_client: object) -> httpx.AsyncClient:
    """The httpx client to send through a caller's ``httpx.AsyncClient`` or
    ``httpx2.AsyncClient`` (never closed by us)."""
    if isinstance(http_client, httpx.AsyncClient):
        _refuse_credentials(http_client.auth)
        return http_client
    if type(http_client).__module__.split(".")[0] == "httpx2":  # no import unless it is one
        import httpx2

        from ._httpx2 import CallerHttpx2Client

        if isinstance(http_client, httpx2.AsyncClient):
            _refuse_credentials(http_client.auth)
            return CallerHttpx2Client(http_client)
    raise InvalidRequestError(
        "http_client",
        f"http_client must be an httpx.AsyncClient or httpx2.AsyncClient, got {http_client!r}",
    )


def _refuse_credentials(auth: object) -> None:
    """A client whose ``auth=`` is Basic, Digest or .netrc credentials would replace the API
    key's Authorization header on every request (its auth flow runs as the request is sent,
    after the key is set): refused, not left to fail as a 401 with a valid key. A custom
    ``Auth`` flow is the caller's; it must leave that header alone."""
    name = type(auth).__name__
    if name in ("BasicAuth", "DigestAuth", "NetRCAuth"):
        raise InvalidRequestError(
            "http_client",
            f"http_client has auth={name}(...), which would replace the API key's Authorization "
            "header: pass a client without auth= (a gateway's own headers can go in headers=)",
        )


def _missing_extra(name: str) -> InvalidRequestError:
    return InvalidRequestError(
        "transport",
        f"transport={name!r} needs the {name} extra: pip install 'numbers-async[{name}]'",
    )
