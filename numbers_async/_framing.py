"""The response framing every owned engine refuses, whichever parser it runs.

h11 (under httpx and httpx2) reads a response sending both Content-Length and
Transfer-Encoding by its chunks; aiohttp's llhttp refuses it, as RFC 9112 §6.3 advises (the pair
is how responses are split and requests smuggled). Refused on every engine, so all agree.
"""

from __future__ import annotations

import httpx


async def unambiguous(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """``response``, unless its headers frame the body two ways: then it is closed (its
    connection with it) and httpx.RemoteProtocolError raised."""
    headers = response.headers
    if "transfer-encoding" in headers and "content-length" in headers:
        await response.aclose()
        raise httpx.RemoteProtocolError(
            "the response sent both Transfer-Encoding and Content-Length", request=request
        )
    return response
