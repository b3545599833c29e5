"""httpx2 (Pydantic's maintained continuation of httpx, on httpcore2) as an engine under httpx.

The facade speaks httpx: its requests, responses and errors are httpx's, whatever moves the
bytes. Here an httpx transport hands each request to httpx2 (its own transport for the owned
pool, or a caller's ``httpx2.AsyncClient``) and maps back what comes out, every httpx2 error to
the httpx error of the same name, so all three engines surface the same NumbersError. The body
is passed on raw: httpx decodes it, exactly as on the other engines.

httpx2 is imported only when selected, so ``import numbers_async`` does not need it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import httpx2

from ._transports import no_cookies

__all__ = ["CallerHttpx2Client", "Httpx2Transport", "owned_httpx2_transport"]


def _httpx_error(exc: httpx2.HTTPError) -> httpx.HTTPError:
    """The httpx exception of the same class name (httpx2 kept httpx's tree and names)."""
    cls: Any = getattr(httpx, type(exc).__name__, None)
    if not (isinstance(cls, type) and issubclass(cls, httpx.RequestError)):
        cls = httpx.TransportError
    mapped: httpx.HTTPError = cls(str(exc))
    return mapped


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except httpx2.HTTPError as exc:
        raise _httpx_error(exc) from exc


class _RawStream(httpx.AsyncByteStream):
    """An httpx2 response's raw (still encoded) body, with its errors mapped."""

    def __init__(self, response: httpx2.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors():
            async for chunk in self._response.aiter_raw():
                yield chunk

    async def aclose(self) -> None:
        with _mapped_errors():
            await self._response.aclose()


class Httpx2Transport(httpx.AsyncBaseTransport):
    """Sends httpx requests through httpx2: an owned ``httpx2.AsyncHTTPTransport``, or a
    caller's ``httpx2.AsyncClient`` (its auth, redirects, cookies and mounts then apply)."""

    def __init__(self, engine: httpx2.AsyncHTTPTransport | httpx2.AsyncClient) -> None:
        self.engine = engine

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        forwarded = httpx2.Request(
            request.method,
            httpx2.URL(scheme=url.scheme, host=url.host, port=url.port, raw_path=url.raw_path),
            headers=request.headers.raw,
            content=await request.aread(),
            extensions=request.extensions,
        )
        with _mapped_errors():
            if isinstance(self.engine, httpx2.AsyncClient):
                response = await self.engine.send(forwarded, stream=True)
            else:
                response = await self.engine.handle_async_request(forwarded)
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            stream=_RawStream(response),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close an owned transport; a caller's client is the caller's to close."""
        if isinstance(self.engine, httpx2.AsyncHTTPTransport):
            await self.engine.aclose()


class CallerHttpx2Client(httpx.AsyncClient):
    """The httpx face of a caller's ``httpx2.AsyncClient``: closed when it is."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        super().__init__(transport=Httpx2Transport(client), cookies=no_cookies())
        self.caller_client = client

    @property
    def is_closed(self) -> bool:
        return self.caller_client.is_closed or super().is_closed


def owned_httpx2_transport(limits: httpx.Limits) -> Httpx2Transport:
    """A pooled httpx2 transport with ``limits``."""
    return Httpx2Transport(
        httpx2.AsyncHTTPTransport(
            limits=httpx2.Limits(
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
            )
        )
    )
