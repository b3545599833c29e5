"""The response framing every owned engine refuses, whichever parser it runs.

h11 (under httpx and httpx2) reads a response sending both Content-Length and
Transfer-Encoding by its chunks; aiohttp's llhttp refuses it, as RFC 9112 §6.3 advises (the pair
is how responses are split and requests smuggled). Refused on every engine, so all agree.

A body longer than its Content-Length leaves its excess on the connection, and httpcore (1.x and
2) would read it as the answer to the next request on that connection: another search's
numbers. aiohttp closes such a connection; on the pools a client owns ``discard_if_overrun``
does. A caller's own httpx or httpx2 client is not guarded (README, "Connections").
"""

from __future__ import annotations

from typing import Any

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


def discard_if_overrun(pool_stream: Any) -> None:
    """Before an httpcore pool's response stream is closed: if bytes came past the response's
    end, mark the exchange failed, so the pool closes the connection instead of keeping it.

    Bytes arriving later make the idle connection readable, which httpcore already treats as
    closed; this catches those read with the response (h11's ``trailing_data``)."""
    connection = getattr(getattr(pool_stream, "_stream", None), "_connection", None)
    state: Any = getattr(connection, "_h11_state", None)  # HTTP/1.1 only: HTTP/2 frames its streams
    trailing = getattr(state, "trailing_data", None)  # an h11.Connection's (h11 not imported)
    if trailing is not None and trailing[0]:
        state.send_failed()


class OverrunGuard(httpx.AsyncByteStream):
    """The response stream of httpx's own transport, with ``discard_if_overrun`` on close."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __aiter__(self) -> Any:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        discard_if_overrun(getattr(self._stream, "_httpcore_stream", None))
        await self._stream.aclose()
