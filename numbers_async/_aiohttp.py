"""httpx-aiohttp's transport, with its errors mapped like httpx's own.

httpx-aiohttp maps a dropped connection to ``ConnectTimeout`` and lets some aiohttp errors
(a malformed response, for one) escape unmapped; here every aiohttp failure becomes the httpx
exception httpx's own transport raises in the same situation, so both transports surface the
same NumbersError.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar, cast

import aiohttp
import httpx
import httpx_aiohttp

__all__ = ["AiohttpTransport"]


def _httpx_error(exc: BaseException) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp (or timeout) failure, or None if it is not one."""
    if isinstance(exc, httpx.TransportError) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, asyncio.TimeoutError):  # ServerTimeoutError, SocketTimeoutError, ...
        connecting = isinstance(exc, aiohttp.ConnectionTimeoutError)
        return (httpx.ConnectTimeout if connecting else httpx.ReadTimeout)(str(exc) or "timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
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
    raise mapped


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


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """httpx-aiohttp's transport with httpx-equivalent errors, keeping no cookies."""

    def get_client(self) -> aiohttp.ClientSession:
        """httpx-aiohttp's pooled session, with aiohttp's own cookie jar switched off: cookies
        are httpx's business (and the owned httpx client keeps none)."""
        if self.client is not None:
            return super().get_client()
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await _mapped(super().handle_async_request(request))
        response.stream = _MappedStream(cast(httpx.AsyncByteStream, response.stream))
        return response
