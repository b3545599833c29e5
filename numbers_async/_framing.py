"""The response framing every owned engine refuses, whichever parser it runs.

h11 (under httpx and httpx2) reads a response sending both Content-Length and
Transfer-Encoding by its chunks; aiohttp's llhttp refuses it, as RFC 9112 §6.3 advises (the pair
is how responses are split and requests smuggled). Refused on every engine, so all agree.

A body longer than its Content-Length leaves its excess on the connection, and httpcore (1.x and
2) would read it as the answer to the next request on that connection: another search's
numbers. aiohttp closes such a connection; on the pools a client owns ``discard_if_overrun``
does. Bytes read with the response past its end that cannot begin another response (a body
longer than its Content-Length, a body after a 204 or 304, which have none) show its own framing
was wrong: it is no usable response on every owned engine, as aiohttp's parser fails on them
before handing the response over; the guarded streams raise ``BytesPastTheEnd`` when the body
ends. A whole second response after a well-framed one is not read, by any engine: the
connection is closed. A caller's own httpx or httpx2 client is not guarded (README,
"Connections").
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import httpx


class BytesPastTheEnd(httpx.RemoteProtocolError):
    """Bytes that cannot begin a response came past a response's end: its framing was wrong,
    and it is trusted no more than its connection, whatever its status (as on aiohttp)."""

    def __init__(
        self, message: str = "bytes came past the end of the response (its framing is wrong)"
    ) -> None:
        super().__init__(message)  # the message: as every httpx error, copied by its type


def _h11_state(pool_stream: Any) -> Any:
    """The h11.Connection under an httpcore pool's response stream (None for HTTP/2)."""
    connection = getattr(getattr(pool_stream, "_stream", None), "_connection", None)
    return getattr(connection, "_h11_state", None)


# A status line's start: "0" stands for any digit; what follows is a space or the line's end.
_STATUS_LINE = b"HTTP/0.0 000"


def _past_the_end(state: Any) -> bytes:
    """The first bytes h11 read past the response's end (its ``trailing_data``; h11 is not
    imported), as many as ``_could_begin_a_response`` looks at."""
    trailing = getattr(state, "trailing_data", None)
    return b"" if trailing is None else bytes(trailing[0][: len(_STATUS_LINE) + 1])


def _could_begin_a_response(extra: bytes) -> bool:
    """Whether ``extra`` is, or begins, a status line (``HTTP/1.1 200``), as a parser reading
    it as the next response would accept it."""
    digit = _STATUS_LINE[-1]
    for byte, wanted in zip(extra, _STATUS_LINE, strict=False):
        if byte != wanted and not (wanted == digit and 0x30 <= byte <= 0x39):
            return False
    return len(extra) <= len(_STATUS_LINE) or extra[len(_STATUS_LINE)] in b" \r\n"


async def refusing_overrun(chunks: AsyncIterable[bytes], pool_stream: Any) -> AsyncIterator[bytes]:
    """``chunks`` of a response body, then BytesPastTheEnd if bytes came past its end that
    cannot be the start of another response."""
    async for chunk in chunks:
        yield chunk
    extra = _past_the_end(_h11_state(pool_stream))
    if extra and not _could_begin_a_response(extra):
        raise BytesPastTheEnd


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
    state = _h11_state(pool_stream)  # HTTP/1.1 only: HTTP/2 frames its streams
    if _past_the_end(state):
        state.send_failed()


class OverrunGuard(httpx.AsyncByteStream):
    """The response stream of httpx's own transport, with ``discard_if_overrun`` on close."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[bytes]:
        return refusing_overrun(self._stream, getattr(self._stream, "_httpcore_stream", None))

    async def aclose(self) -> None:
        discard_if_overrun(getattr(self._stream, "_httpcore_stream", None))
        await self._stream.aclose()
