"""httpx-aiohttp's transport, with its errors mapped like httpx's own.

httpx-aiohttp maps a dropped connection to ``ConnectTimeout`` and lets some aiohttp errors
(a malformed response, for one) escape unmapped; here every aiohttp failure becomes the httpx
exception httpx's own transport raises in the same situation, so both transports surface the
same NumbersError.

aiohttp's parser also reads heads by its own rules: here it takes what h11 (httpx's parser)
takes, a head of up to 100 KiB however its lines are split and whatever bytes its reason phrase
holds, and refuses what h11 refuses and aiohttp read: a ``101 Switching Protocols`` nobody asked
for, a status below 100, a Transfer-Encoding other than one chunked, an empty line before the
head.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar, cast

import aiohttp
import httpx
import httpx_aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.http_exceptions import HttpProcessingError

from ._cancel import POOL_TIMED_OUT
from ._cycles import release_frames
from ._pool_wait import note_cut_off, was_cut_off
from ._stale import DISCONNECTED, RESENDING, connection_opened

__all__ = ["AiohttpTransport"]


def _httpx_error(exc: BaseException) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp (or timeout) failure, or None if it is not one."""
    if isinstance(exc, httpx.TransportError) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, asyncio.TimeoutError):  # ServerTimeoutError, SocketTimeoutError, ...
        connecting = isinstance(exc, aiohttp.ConnectionTimeoutError)
        if connecting and was_cut_off(asyncio.current_task()):
            return httpx.PoolTimeout(POOL_TIMED_OUT)
        return (httpx.ConnectTimeout if connecting else httpx.ReadTimeout)(str(exc) or "timed out")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = httpx.ConnectError(str(exc))
        refused = exc.certificate_error
        if isinstance(refused, ssl.SSLCertVerificationError):  # a copy: no traceback, no key
            error.__cause__ = ssl.SSLCertVerificationError(*refused.args)
        return error
    if isinstance(exc, aiohttp.ClientHttpProxyError):  # the CONNECT refused: httpcore's words
        return httpx.ProxyError(f"{exc.status} {exc.message}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):  # closed before a response head
        return httpx.RemoteProtocolError(DISCONNECTED)
    if isinstance(exc, aiohttp.ClientOSError):  # a reset, say, sending or awaiting the head
        return httpx.ReadError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, aiohttp.ClientError):
        return httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}")
    return None


_ENGINE_ERRORS = (TimeoutError, httpx.TransportError, aiohttp.ClientError)
T = TypeVar("T")


async def _mapped(awaitable: Awaitable[T]) -> T:
    """``await awaitable``, with aiohttp's errors raised as their httpx equivalents.

    Not chained, and raised after the ``except`` block: aiohttp's response errors show the
    request's headers, the API key among them, in their repr, so no frame of the raised
    error's traceback (whose locals tools like Sentry print) nor its context may hold one.
    """
    try:
        return await awaitable
    except _ENGINE_ERRORS as exc:
        mapped = _httpx_error(exc)
        if mapped is None:
            raise
        release_frames(exc)  # dropped here: aiohttp's frames must not keep it (_cycles.py)
    raise mapped


# httpcore's (h11's) bound on a response head: no one line nor count of lines is bounded alone.
HEAD_LIMIT = 100 * 1024


class _HeadLimitedHandler(ResponseHandler):
    """aiohttp's connection protocol, bounding the bytes of each response head to HEAD_LIMIT
    (aiohttp's own limits bound each line and the count of lines, not the head)."""

    _head_bytes: int | None = None  # of the head being read; None while none is
    _nothing_yet = False  # a request was sent and no byte of its response came yet
    _carried = False  # a request was sent on this connection before

    def set_response_params(self, **params: Any) -> None:
        """A request is about to be sent on this connection (in its task): its response's
        head comes next, and _stale.py learns whether the connection is a pooled one (a
        trace config told it, for 2.7 % of a search's instructions: facade-aiohttp W1 under
        callgrind, 2.045 -> 1.99 M; a tunnel's CONNECT goes out on a protocol of its own,
        before the one TLS runs on)."""
        connection_opened(reused=self._carried)
        self._carried = True
        self._head_bytes = 0
        self._nothing_yet = True
        super().set_response_params(**params)

    def feed_data(self, data: tuple[Any, Any], size: int = 0) -> None:
        message = data[0]
        code = message.code  # a head was read: another follows a 1xx
        self._head_bytes = 0 if 100 <= code < 200 and code != 101 else None
        refused = _h11_refuses(message)
        if refused is not None:
            self._refuse(refused)
            return
        if not message.reason.isascii():
            data = (_with_reason(message, _encodable(message.reason)), data[1])
        super().feed_data(data, size)

    def data_received(self, data: bytes) -> None:
        if self._nothing_yet and data:
            self._nothing_yet = False
            if data[:1] in (b"\r", b"\n"):  # h11 refuses it too
                self._refuse("an empty line before the status line")
                return
        if self._head_bytes is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_bytes is not None and self._head_bytes > HEAD_LIMIT:
            self._refuse(f"head over {HEAD_LIMIT} bytes")

    def _refuse(self, problem: str) -> None:
        """Fail the response being read, as h11 would, and close its connection."""
        self._head_bytes = None
        if self.transport is not None:
            self.transport.close()
        self.set_exception(HttpProcessingError(message=problem))


def _encodable(reason: str) -> str:
    """A reason phrase httpx_aiohttp can encode: aiohttp keeps bytes that are not UTF-8 as lone
    surrogates, on which it raised UnicodeEncodeError (a 502 then failed as a request it could
    not encode, unretried); h11 takes any bytes there, so the other engines read the response."""
    try:
        reason.encode()
    except UnicodeEncodeError:
        return reason.encode(errors="surrogateescape").decode("latin-1")
    return reason


def _with_reason(message: Any, reason: str) -> Any:
    """aiohttp's RawResponseMessage (its C parser's or its Python one's) with another reason."""
    return type(message)(
        message.version,
        message.code,
        reason,
        message.headers,
        message.raw_headers,
        message.should_close,
        message.compression,
        message.upgrade,
        message.chunked,
    )


class _MappedStream(httpx.AsyncByteStream):
    """A response body whose read errors are mapped too."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = aiter(self._stream)
        while True:
            try:
                chunk = await _mapped(anext(chunks))
            except StopAsyncIteration:
                return
            yield chunk

    async def aclose(self) -> None:
        await _mapped(self._stream.aclose())


def _credentials_in_header(proxy: httpx.Proxy | None) -> httpx.Proxy | None:
    """``proxy`` with its URL's credentials as a header: httpx-aiohttp hands them to aiohttp
    as a BasicAuth, which aiohttp 3.14 deprecates with a warning on every request. aiohttp
    moves an Authorization header of the proxy's to the Proxy-Authorization of the request
    it concerns (the CONNECT, or the request itself when forwarded), as its warning advises."""
    if proxy is None or proxy.raw_auth is None:
        return proxy
    username, password = proxy.raw_auth
    token = base64.b64encode(username + b":" + password).decode("ascii")
    return httpx.Proxy(proxy.url, headers={**proxy.headers, "Authorization": f"Basic {token}"})


def _h11_refuses(message: Any) -> str | None:
    """Why h11 refuses a response head aiohttp parsed (its RawResponseMessage), or None: a
    ``101 Switching Protocols`` nobody asked for (aiohttp hands it over, upgraded), a status
    below 100, or a Transfer-Encoding other than one ``chunked`` (gzip, read until the
    connection closes, or chunked twice)."""
    status = message.code
    if status == 101:
        return "101 Switching Protocols, unasked"
    if status < 100:
        return f"status {status} is not an HTTP status code"
    codings = message.headers.getall("Transfer-Encoding", ())
    if codings and [c.strip().lower() for v in codings for c in v.split(",")] != ["chunked"]:
        return f"Transfer-Encoding {', '.join(codings)}: only chunked, once, is read"
    return None


class _QueueingConnector(aiohttp.TCPConnector):
    """aiohttp's connector, opening a new connection for a resent request and noting a wait for
    a free connection that was cut off (_pool_wait): aiohttp then raises the
    ConnectionTimeoutError of a connect that timed out, which httpx's pools report as
    PoolTimeout. Both override private methods: an aiohttp release without them only loses
    these (a resend may meet another stale connection; a pool timeout reads as a connect's)."""

    async def _get(self, *args: Any, **kwargs: Any) -> Any:
        """A pooled connection, or None for a new one: always None for a request resent because
        a stale pooled connection lost it (_stale.RESENDING): its pooled siblings, idle as
        long, are as likely closed."""
        if RESENDING.get():
            return None
        return await super()._get(*args, **kwargs)

    async def _wait_for_available_connection(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super()._wait_for_available_connection(*args, **kwargs)
        except asyncio.CancelledError:  # the pool timeout's, a deadline's or the caller's
            note_cut_off()
            raise


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """httpx-aiohttp's transport with httpx-equivalent errors, keeping no cookies."""

    def __init__(
        self, limits: httpx.Limits, verify: ssl.SSLContext, proxy: httpx.Proxy | None
    ) -> None:
        super().__init__(limits=limits, verify=verify, proxy=_credentials_in_header(proxy))

    def get_client(self) -> aiohttp.ClientSession:
        """httpx-aiohttp's pooled session, with aiohttp's own cookie jar switched off: cookies
        are httpx's business (and the owned httpx client keeps none)."""
        if self.client is not None:
            return super().get_client()
        connector = _QueueingConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        # Each connection's protocol, as aiohttp builds it (there is no public way to choose).
        connector._factory = functools.partial(  # type: ignore[assignment]
            _HeadLimitedHandler, loop=connector._loop
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            # Only the head's size is bounded (each line and header counts a byte at least).
            max_line_size=HEAD_LIMIT,
            max_field_size=HEAD_LIMIT,
            max_headers=HEAD_LIMIT,
        )
        # aiohttp resends an idempotent request that failed on any connection, a new one too
        # (doubling the load of a server dropping connections): _stale.py resends instead, only
        # after a reused one. No public switch: aiohttp's own test client sets this attribute.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await _mapped(super().handle_async_request(request))
        response.stream = _MappedStream(cast(httpx.AsyncByteStream, response.stream))
        return response
