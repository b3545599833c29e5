"""httpx2 (Pydantic's maintained continuation of httpx, on httpcore2) as an engine under httpx.

The facade speaks httpx: its requests, responses and errors are httpx's, whatever moves the
bytes. Here an httpx transport hands each request to httpx2's engine and maps back what comes
out, every httpx2 or httpcore2 error to the httpx error of the same name (httpx2 kept httpx's
names), so all three engines surface the same NumbersError. The body is passed on raw: httpx
decodes it, exactly as on the other engines.

The owned pool is httpcore2's connection pool itself, driven as httpx drives httpcore's: going
through httpx2's client and request objects as well would cost a third more CPU per request.
A caller's ``httpx2.AsyncClient`` is sent through whole, so its auth, redirects, cookies and
mounts apply.

httpx2 is imported only when selected, so ``import numbers_async`` does not need it.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore2
import httpx
import httpx2

from ._framing import discard_if_overrun, refusing_overrun, unambiguous
from ._handshake import HandshakeWatch
from ._network import pool_on_asyncio
from ._transports import NoCookieClient

__all__ = ["CallerHttpx2Client", "Httpcore2Transport", "Httpx2Transport"]

_ENGINE_ERRORS = (
    httpx2.HTTPError,
    httpcore2.TimeoutException,
    httpcore2.NetworkError,
    httpcore2.ProtocolError,
    httpcore2.ProxyError,
    httpcore2.UnsupportedProtocol,
)


def _httpx_error(exc: Exception) -> httpx.HTTPError:
    """The httpx exception of the same class name (httpx2 and httpcore2 kept httpx's names)."""
    cls: Any = getattr(httpx, type(exc).__name__, None)
    if not (isinstance(cls, type) and issubclass(cls, httpx.RequestError)):
        cls = httpx.TransportError
    mapped: httpx.HTTPError = cls(str(exc))
    return mapped


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except httpx2.HTTPStatusError:  # a caller's event hook's raise_for_status(): the caller's
        raise  # own, unchanged, as from a caller's httpx client (not a failed transport)
    except _ENGINE_ERRORS as exc:
        raise _httpx_error(exc) from exc


class _PoolStream(httpx.AsyncByteStream):
    """An httpcore2 response body, with its errors mapped."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors():
            async for chunk in refusing_overrun(self._stream, self._stream):
                yield chunk

    async def aclose(self) -> None:
        discard_if_overrun(self._stream)
        with _mapped_errors():
            await self._stream.aclose()


class Httpcore2Transport(httpx.AsyncBaseTransport):
    """httpx's own transport, on httpcore2's connection pool (what ``transport="httpx2"`` owns)."""

    def __init__(
        self, limits: httpx.Limits, ssl_context: ssl.SSLContext, proxy: httpx.Proxy | None = None
    ) -> None:
        self.pool: httpcore2.AsyncConnectionPool = pool_on_asyncio(
            httpcore2, limits, ssl_context, proxy
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        forwarded = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped_errors():
            response = await self.pool.handle_async_request(forwarded)
        mapped = httpx.Response(
            response.status,
            headers=response.headers,
            stream=_PoolStream(response.stream),
            extensions=response.extensions,
        )
        return await unambiguous(mapped, request)

    async def aclose(self) -> None:
        await self.pool.aclose()


class _RawStream(httpx.AsyncByteStream):
    """An httpx2 response's raw (still encoded) body, with its errors mapped; its decoded
    content when the caller's client read it already (an event hook or auth flow did)."""

    def __init__(self, response: httpx2.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        response = self._response
        if response.is_stream_consumed:
            yield response.content
            return
        with _mapped_errors():
            async for chunk in response.aiter_raw():
                yield chunk

    async def aclose(self) -> None:
        with _mapped_errors():
            await self._response.aclose()


class _HandshakeTrace(HandshakeWatch):
    """The trace extension of a request through a caller's httpx2 client, whose anyio backend
    leaves a cancelled TLS handshake's socket open (_handshake.py): closes it, and passes
    every event on to the trace the httpx request holds then (_stale.py's, while it watches)."""

    __slots__ = ("extensions",)

    def __init__(self, extensions: dict[str, Any]) -> None:
        super().__init__()
        self.extensions = extensions

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        await self.watch_handshake(name, info)
        trace = self.extensions.get("trace")
        if trace is not None:
            await trace(name, info)


class Httpx2Transport(httpx.AsyncBaseTransport):
    """Sends httpx requests through a caller's ``httpx2.AsyncClient``, never closing it."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        # Built by the client, as httpx builds a caller's: its default headers, cookies and
        # query parameters merge in (ours win on a clash, as httpx's request headers do).
        forwarded = self.client.build_request(
            request.method,
            httpx2.URL(scheme=url.scheme, host=url.host, port=url.port, raw_path=url.raw_path),
            headers=request.headers.raw,
            content=await request.aread(),
            extensions=request.extensions,
        )
        if url.scheme == "https":  # a handshake to watch; a dict of its own (_stale.py
            # removes its trace from the httpx request's)
            trace = _HandshakeTrace(request.extensions)
            forwarded.extensions = {**forwarded.extensions, "trace": trace}
        with _mapped_errors():
            response = await self.client.send(forwarded, stream=True)
        headers = response.headers
        if response.is_stream_consumed:  # read, so decoded: its body is no longer encoded
            headers = headers.copy()
            headers.pop("content-encoding", None)
        return httpx.Response(
            response.status_code,
            headers=headers.raw,
            stream=_RawStream(response),
            extensions=response.extensions,
        )


class CallerHttpx2Client(NoCookieClient):
    """The httpx face of a caller's ``httpx2.AsyncClient``: closed when it is."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        super().__init__(transport=Httpx2Transport(client))
        # No defaults of httpx's own (Accept, Accept-Encoding, Connection, User-Agent): they
        # would win over the caller's client's when it builds the request; ours are per request.
        self._headers = httpx.Headers()
        self.caller_client = client

    @property
    def is_closed(self) -> bool:
        return self.caller_client.is_closed or super().is_closed
