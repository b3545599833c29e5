"""Reading a response body with a ceiling: at most ``max_response_bytes`` of decoded content.

httpx decodes a whole network chunk at once, and a 64 KiB chunk of a gzip bomb inflates to
64 MB; so an encoded body's raw bytes go to httpx's own decoder in small slices and the total
is checked after each. Memory then stays within the limit plus one slice's output (deflate
inflates at most about 1032:1: 256 KiB a slice), whatever the body claims or compresses to.
"""

from __future__ import annotations

import asyncio
from typing import cast

import httpx

# 1 MiB: about 140 times a full 50-number page (7.5 KB with every field), and the most one
# json.loads can take without holding the event loop past ~50 ms (a body at the limit: 23 ms
# of CPU on a 2.5 GHz Xeon, 2 MiB 48 ms, 4 MiB 126 ms).
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
_RAW_SLICE = 256


class BodyTooLarge(Exception):
    """The decoded body passed the limit; the rest was left unread."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        super().__init__(f"body larger than max_response_bytes={limit}")
        self.response = response
        self.limit = limit


async def read_limited(response: httpx.Response, limit: int | None) -> None:
    """Read ``response``'s body as ``aread()`` does (``response.content`` then holds it), but
    raise BodyTooLarge as soon as the decoded body passes ``limit`` (None: no limit). Unlike
    ``aread()``, it leaves the response open: its caller closes it outside the attempt's time
    limit (_request.py), as a cancellation inside httpcore 1.x's close leaks the connection."""
    if response.is_stream_consumed:  # already in memory: a caller's client read it
        if limit is not None and len(response.content) > limit:
            raise BodyTooLarge(response, limit)
        return
    stream = cast(httpx.AsyncByteStream, response.stream)  # an AsyncClient's response
    decoder = response._get_content_decoder()  # httpx's, as aread() would use
    sliced = limit is not None and "content-encoding" in response.headers
    parts: list[bytes] = []
    size = 0
    response.is_stream_consumed = True
    try:
        async for raw in stream:  # not aiter_raw(), which closes the response
            step = _RAW_SLICE if sliced else len(raw) or 1
            for start in range(0, len(raw), step):
                part = decoder.decode(raw[start : start + step] if sliced else raw)
                size += len(part)
                parts.append(part)
                if limit is not None and size > limit:
                    raise _too_large(response, limit, parts)
    except (httpx.TransportError, asyncio.CancelledError):  # cut short, or stalled past a
        if not response.is_success:  # timeout: an error status keeps what came, to be read from
            response._content = b"".join(parts)
        raise
    parts.append(decoder.flush())
    if limit is not None and size + len(parts[-1]) > limit:
        raise _too_large(response, limit, parts)
    response._content = b"".join(parts)  # what aread() sets: .content and .json() read it


def _too_large(response: httpx.Response, limit: int, parts: list[bytes]) -> BodyTooLarge:
    """The error; an error status keeps the body's first ``limit`` bytes as its content, to
    be read from, the same on every engine however it cut the body in chunks (a 2xx's would
    only be refused: no copy is made)."""
    if not response.is_success:
        response._content = b"".join(parts)[:limit]
    return BodyTooLarge(response, limit)
