"""One table of odd raw responses, each with the one outcome every engine must give.

The rule: a response HTTP allows, however odd (a repeated identical Content-Length, a bare-LF
head, no reason phrase, 1xx heads before the answer, a close-delimited HTTP/1.0 body, many or
long headers within a 100 KiB head), is read like any other. A response a strict HTTP/1.1
parser rejects (conflicting or doubled framing, broken chunks, a header line without a colon,
a head over 100 KiB, a 101 nobody asked for) is no usable response: APIConnectionError, as for
a dropped connection; so is one followed by bytes that cannot begin another response (a body
after a 204 or 304, a body longer than its Content-Length), whatever its status. A well-framed
2xx without the documented body (204) is ResponseValidationError. No odd response may wait past
the attempt's timeout.

One row cannot agree: aiohttp's llhttp refuses any repeated Content-Length, and h11 merges
identical ones before httpx or httpx2 could see them. RFC 9110 §8.6 allows either; DIVERGENT
pins the difference, so a change on either side shows.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from helpers import API_KEY, SleepRecorder, loop_clock, since
from loopback import LoopbackServer, serve

from numbers_async import (
    APIConnectionError,
    APITimeoutError,
    NumbersClient,
    NumbersError,
    PaymentRequiredError,
    ProviderError,
    ResponseValidationError,
    RetryPolicy,
)
from numbers_async import AuthenticationError as AuthError
from numbers_async._transports import Transport

BODY = json.dumps({"numbers": [{"phoneNumber": f"+1415555000{n}"} for n in range(3)]}).encode()
OK = b"HTTP/1.1 200 OK"
TYPE = b"Content-Type: application/json"
LENGTH = b"Content-Length: %d" % len(BODY)
CHUNKED = b"Transfer-Encoding: chunked"
ERROR_BODY = json.dumps(
    {"trackingId": "trk_cut", "error": {"code": "insufficient_funds", "message": "top up"}}
).encode()
ERROR_LENGTH = b"Content-Length: %d" % len(ERROR_BODY)
UNAUTHORIZED = b"HTTP/1.1 401 Unauthorized"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + LENGTH + b"\r\n\r\n"
PADDED = BODY[:-1] + b', "padding": "' + b"p" * 300_000 + b'"}'  # a big body, not a big head
TIMEOUT = 1.0  # the attempt's timeout where the row waits it out
ANSWER_TIMEOUT = 5.0  # elsewhere: an answer takes milliseconds, a loaded CI machine a second


def response(status: bytes, *headers: bytes, body: bytes = BODY, eol: bytes = b"\r\n") -> bytes:
    """A raw response: ``status`` line, ``headers`` and ``body``, lines ended by ``eol``."""
    return b"".join(line + eol for line in (status, *headers)) + eol + body


def chunks(body: bytes, size: bytes | None = None) -> bytes:
    """``body`` as one chunk and the last chunk (its size line ``size`` when given, however
    wrong)."""
    return (size or b"%x" % len(body)) + b"\r\n" + body + b"\r\n0\r\n\r\n"


def many(count: int, value_size: int) -> list[bytes]:
    """``count`` distinct headers of ``value_size`` bytes each."""
    return [b"X-Odd-%d: %s" % (n, b"v" * value_size) for n in range(count)]


# (id, the raw response or a loopback behaviour, the count of numbers or the exact error)
ODD: list[tuple[str, bytes | tuple[bytes, ...] | str, int | type[NumbersError]]] = [
    ("duplicate-identical-content-length", response(OK, TYPE, LENGTH, LENGTH), 3),
    (
        "conflicting-content-length",
        response(OK, TYPE, LENGTH, b"Content-Length: %d" % (len(BODY) + 5)),
        APIConnectionError,
    ),
    ("500-headers", response(OK, TYPE, LENGTH, *many(500, 8)), 3),
    ("300-kb-body", response(OK, TYPE, b"Content-Length: %d" % len(PADDED), body=PADDED), 3),
    ("one-20kb-header", response(OK, TYPE, LENGTH, *many(1, 20_000)), 3),
    ("100-20kb-headers", response(OK, TYPE, LENGTH, *many(100, 20_000)), APIConnectionError),
    (
        "101-switching-protocols",
        response(b"HTTP/1.1 101 Switching Protocols", b"Connection: upgrade", b"Upgrade: odd"),
        APIConnectionError,
    ),
    (
        "103-early-hints-first",
        response(b"HTTP/1.1 103 Early Hints", b"Link: </x>; rel=preload", body=b"")
        + response(OK, TYPE, LENGTH),
        3,
    ),
    (
        "content-length-and-chunked",
        response(OK, TYPE, LENGTH, CHUNKED, body=chunks(BODY)),
        APIConnectionError,
    ),
    (
        "bad-chunk-size",
        response(OK, TYPE, CHUNKED, body=chunks(BODY, size=b"zz")),
        APIConnectionError,
    ),
    ("endless-100-continue", "continue-forever", APITimeoutError),
    ("lf-only-line-endings", response(OK, TYPE, LENGTH, eol=b"\n"), 3),
    ("header-without-colon", response(OK, TYPE, LENGTH, b"X-No-Colon"), APIConnectionError),
    ("status-without-reason", response(b"HTTP/1.1 200", TYPE, LENGTH), 3),
    ("http-1.0-close-delimited", response(b"HTTP/1.0 200 OK", TYPE), 3),
    (
        "204-no-content",
        response(b"HTTP/1.1 204 No Content", TYPE, body=b""),
        ResponseValidationError,
    ),
    # bytes past the response's end, read with it: no body may follow a 204 or 304, and a body
    # longer than its Content-Length (aiohttp's parser fails on them before the status is seen;
    # on h11 engines the status was read, and the numbers of a 200's first bytes)
    ("204-then-bytes", response(b"HTTP/1.1 204 No Content", TYPE, body=BODY), APIConnectionError),
    ("304-then-bytes", response(b"HTTP/1.1 304 Not Modified", TYPE, body=BODY), APIConnectionError),
    (
        "200-body-past-its-content-length",
        response(OK, TYPE, b"Content-Length: %d" % (len(BODY) - 5), body=BODY),
        APIConnectionError,
    ),
    (
        "402-body-past-its-content-length",
        response(b"HTTP/1.1 402 Payment Required", TYPE, ERROR_LENGTH, body=ERROR_BODY + b"xx"),
        APIConnectionError,
    ),
    # ... bytes that begin like a status line and then are not one too
    (
        "200-then-junk-after-http-slash",
        response(OK, TYPE, LENGTH, body=BODY + b"HTTP/ not a response"),
        APIConnectionError,
    ),
    (
        "204-then-junk-after-a-status-code",
        response(b"HTTP/1.1 204 No Content", TYPE, body=b"HTTP/1.1 200X"),
        APIConnectionError,
    ),
    # framing h11 refuses (and aiohttp read): a status below 100, a Transfer-Encoding other
    # than one chunked (gzip: read until the connection closes), an empty line before the head
    ("status-099", response(b"HTTP/1.1 099 Odd", TYPE, LENGTH), APIConnectionError),
    ("status-000", response(b"HTTP/1.1 000 Odd", TYPE, LENGTH), APIConnectionError),
    ("transfer-encoding-gzip", response(OK, TYPE, b"Transfer-Encoding: gzip"), APIConnectionError),
    (
        "chunked-twice",
        response(OK, TYPE, CHUNKED, CHUNKED, body=chunks(BODY)),
        APIConnectionError,
    ),
    ("empty-line-before-head", b"\r\n" + response(OK, TYPE, LENGTH), APIConnectionError),
    # ... but a head split anywhere is read, after a 1xx too (its end in a read of its own)
    ("head-split-before-its-end", (HEAD[:-2], b"\r\n" + BODY), 3),
    ("100-continue-then-head-split-before-its-end", (CONTINUE + HEAD[:-2], b"\r\n" + BODY), 3),
    ("100-continue-then-head-split-inside-its-end", (CONTINUE + HEAD[:-1], b"\n" + BODY), 3),
    # a reason phrase that is not UTF-8 (h11 takes any bytes there; aiohttp had a raw
    # UnicodeEncodeError, and a 502 read as a request that could not be encoded)
    ("reason-not-utf-8", response(b"HTTP/1.1 200 \xff", TYPE, LENGTH), 3),
    (
        "502-reason-not-utf-8",
        response(b"HTTP/1.1 502 Bad \xff Gateway", TYPE, ERROR_LENGTH, body=ERROR_BODY),
        ProviderError,
    ),
    # an error status whose body breaks off is still that status's error
    ("401-body-cut-short", response(UNAUTHORIZED, b"Content-Length: 100", body=b""), AuthError),
    (
        "502-chunked-body-cut-short",
        response(b"HTTP/1.1 502 Bad Gateway", CHUNKED, body=b"40\r\n" + ERROR_BODY[:20]),
        ProviderError,
    ),
]

# (row id, engine): the outcome there, where the engines cannot agree (see the docstring).
DIVERGENT: dict[tuple[str, str], int | type[NumbersError]] = {
    ("duplicate-identical-content-length", "aiohttp"): APIConnectionError,
}


def client_for(server: LoopbackServer, transport: str, timeout: float) -> NumbersClient:
    """One attempt per search, bounded by ``timeout``."""
    return NumbersClient(
        API_KEY,
        base_url=server.base_url,
        transport=cast(Transport, transport),
        timeout=timeout,
        max_retries=0,
        retry_policy=RetryPolicy(sleep=SleepRecorder()),
    )


@pytest.mark.parametrize(("row", "sent", "expected"), ODD, ids=[row[0] for row in ODD])
async def test_every_engine_gives_the_same_outcome(
    transport: str,
    row: str,
    sent: bytes | tuple[bytes, ...] | str,
    expected: int | type[NumbersError],
) -> None:
    """Each odd response: the row's count of numbers, or exactly the row's NumbersError, within
    the attempt's timeout (and the endless 100 Continue row only once its 1 s has passed)."""
    if not isinstance(sent, str):
        server = LoopbackServer(["raw"], raw=sent)
    else:
        server = LoopbackServer([sent])
    timeout = TIMEOUT if expected is APITimeoutError else ANSWER_TIMEOUT
    async with serve(server), client_for(server, transport, timeout) as client:
        outcome: Any
        started = loop_clock()
        try:
            outcome = len(await client.search("US", limit=3))
        except NumbersError as exc:
            outcome = type(exc)
        elapsed = since(started)
    assert outcome == DIVERGENT.get((row, transport), expected)
    assert elapsed < timeout + 1.0
    if expected is APITimeoutError:
        assert elapsed >= TIMEOUT


@pytest.mark.parametrize("keep_open", [False, True], ids=["closed", "stalled"])
async def test_an_error_body_cut_short_keeps_its_status_class_fields_and_retry_rule(
    transport: str, keep_open: bool
) -> None:
    """A 402 whose Content-Length promises 50 bytes more than come (the connection then closed,
    or left open until the read timeout): PaymentRequiredError with the fields of what came,
    after one request (not an APIConnectionError retried as for a dropped connection)."""
    sent = response(
        b"HTTP/1.1 402 Payment Required",
        TYPE,
        b"Content-Length: %d" % (len(ERROR_BODY) + 50),
        body=ERROR_BODY,
    )
    server = LoopbackServer(["raw-keep-open" if keep_open else "raw"], raw=sent)
    async with serve(server):
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            transport=cast(Transport, transport),
            timeout=TIMEOUT,
            retry_policy=RetryPolicy(max_retries=2, sleep=SleepRecorder()),
        )
        async with client:
            with pytest.raises(PaymentRequiredError) as caught:
                await client.search("US", limit=3)
    assert (caught.value.status_code, caught.value.tracking_id) == (402, "trk_cut")
    assert caught.value.code == "insufficient_funds"
    assert caught.value.attempts == 1
    assert server.requests == 1
