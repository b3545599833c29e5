"""The owned pool of the default engine: httpx's own transport (httpcore 1.x), guarded.

Imported when a client selects it (``_transports.owned_http_client``): httpcore, h11 and anyio
are then loaded, as httpx itself loads them only when it builds a pool (about 50 ms of import).
"""

from __future__ import annotations

import ssl

import httpcore
import httpx

from ._framing import OverrunGuard, unambiguous
from ._network import pool_on_asyncio


class FramedHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, refusing ambiguously framed responses and closing a connection
    that carried bytes past a response (see _framing.py), on asyncio's transports (_network.py)."""

    def __init__(
        self, limits: httpx.Limits, ssl_context: ssl.SSLContext, proxy: httpx.Proxy | None = None
    ) -> None:
        super().__init__(limits=limits, verify=ssl_context)
        # httpx's pool on another backend
        self._pool = pool_on_asyncio(httpcore, limits, ssl_context, proxy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        response.stream = OverrunGuard(response.stream)
        return await unambiguous(response, request)
