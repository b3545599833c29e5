"""The connection pool a client owns: plain httpx, or httpx over aiohttp (the fast transport).

aiohttp is imported only when selected, so ``import numbers_async`` stays as light as httpx.
"""

from __future__ import annotations

from typing import Literal

import httpx

from .errors import InvalidRequestError

Transport = Literal["httpx", "aiohttp"]
# One pool for the whole service: keep every connection alive so bursts reuse them instead of
# reconnecting (httpx keeps only 20 alive by default).
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


def owned_http_client(
    transport: object, timeout: httpx.Timeout, headers: dict[str, str]
) -> httpx.AsyncClient:
    """A new pooled AsyncClient on the chosen transport, sending ``headers`` on every request."""
    if transport == "httpx":
        return httpx.AsyncClient(limits=DEFAULT_LIMITS, timeout=timeout, headers=headers)
    if transport == "aiohttp":
        try:
            from ._aiohttp import AiohttpTransport
        except ImportError as exc:
            raise InvalidRequestError(
                "transport",
                "transport='aiohttp' needs the aiohttp extra: pip install 'numbers-async[aiohttp]'",
            ) from exc
        return httpx.AsyncClient(
            transport=AiohttpTransport(limits=DEFAULT_LIMITS), timeout=timeout, headers=headers
        )
    raise InvalidRequestError(
        "transport", f"transport must be 'httpx' or 'aiohttp', got {transport!r}"
    )
