"""The connection pool a client owns: plain httpx, or httpx over aiohttp (the fast transport).

aiohttp is imported only when selected, so ``import numbers_async`` stays as light as httpx.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Literal

import httpx

from .errors import InvalidRequestError

Transport = Literal["httpx", "aiohttp"]
# httpx keeps its default (100 connections, 20 kept alive): httpcore scans its whole pool on
# every request, so keeping 100 alive made 64-way concurrency 30% slower (BENCHMARKS.md, W2).
# aiohttp's connector does no such scan: there every connection is kept for reuse.
HTTPX_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
AIOHTTP_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


def no_cookies() -> CookieJar:
    """A jar that refuses every cookie: a service-wide client must not carry one response's
    Set-Cookie into every later request (a non-ASCII one would make them all unsendable)."""
    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))


def owned_http_client(
    transport: object, timeout: httpx.Timeout, headers: httpx.Headers
) -> httpx.AsyncClient:
    """A new pooled AsyncClient on the chosen transport, sending ``headers`` on every request."""
    if transport == "httpx":
        return httpx.AsyncClient(
            limits=HTTPX_LIMITS, timeout=timeout, headers=headers, cookies=no_cookies()
        )
    if transport == "aiohttp":
        try:
            from ._aiohttp import AiohttpTransport
        except ImportError as exc:
            raise InvalidRequestError(
                "transport",
                "transport='aiohttp' needs the aiohttp extra: pip install 'numbers-async[aiohttp]'",
            ) from exc
        return httpx.AsyncClient(
            transport=AiohttpTransport(limits=AIOHTTP_LIMITS),
            timeout=timeout,
            headers=headers,
            cookies=no_cookies(),
        )
    raise InvalidRequestError(
        "transport", f"transport must be 'httpx' or 'aiohttp', got {transport!r}"
    )
