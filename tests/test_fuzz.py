"""Hostile responses: whatever the server sends, search() returns spec-shaped numbers or raises
a NumbersError, and never hangs (hypothesis, served through httpx.MockTransport); what the
fuzzing found is then pinned over real sockets on both transports."""

import asyncio
import gzip
import json
from typing import Any, cast

import httpx
import pytest
from helpers import API_KEY, BASE_URL, SleepRecorder
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from loopback import LoopbackServer, serve
from numbers_api.types import Unset

from numbers_async import (
    APIConnectionError,
    APIStatusError,
    AvailableNumber,
    BadRequestError,
    NumbersClient,
    NumbersError,
    ResponseValidationError,
    RetryPolicy,
)
from numbers_async._pagination import PAGE_MAX
from numbers_async._retry import RETRYABLE_STATUSES
from numbers_async._transports import Transport
from numbers_async.errors import error_from_response

MAX_EXAMPLES = 300
KNOWN = {"phoneNumber", "locality", "administrativeArea", "phoneNumberType", "features"}
EXAMPLES_RUN: list[str] = []


class Body:
    """Response bytes and the page items they hold: ``items`` None means the body must be
    refused, as must a page whose item ``bad_at`` is among those asked for, by the first
    request or by a full-page request after it (see ``expected``); an unpredictable body
    (random bytes) may go either way."""

    __slots__ = ("bad_at", "content", "headers", "items", "kind", "predictable")

    def __init__(
        self,
        kind: str,
        content: bytes,
        items: list[Any] | None = None,
        *,
        bad_at: int | None = None,
        predictable: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.content = content
        self.items = items
        self.bad_at = bad_at
        self.predictable = predictable
        self.headers = headers or {}

    def expected(self, limit: int) -> list[dict[str, Any]] | None:
        """The numbers a search for ``limit`` yields, or None when it must be refused: each page
        is cut to the numbers asked for, and a null field reads as absent. The first request asks
        for ``limit`` (at most a page); a full first page with too few distinct numbers is
        followed by requests for a full page, which bring what lies beyond the first cut."""
        asked = min(PAGE_MAX, limit)
        if self.items is None or (self.bad_at is not None and self.bad_at < asked):
            return None
        served = self.items[:asked]
        if len(served) == asked and len(first_distinct(served)) < limit:
            if self.bad_at is not None and self.bad_at < PAGE_MAX:
                return None
            served = [*served, *self.items[:PAGE_MAX]]  # later pages bring nothing new: it stops
        return first_distinct([without_nulls(item) for item in served])[:limit]

    def __repr__(self) -> str:
        return f"Body({self.kind!r}, {self.content[:60]!r}... {len(self.content)} bytes)"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
small_json_values = st.recursive(  # per number: 60 numbers of big values cost seconds to draw
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=3,
)
extra_fields = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k not in KNOWN), small_json_values, max_size=2
)
top_extra_fields = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k != "numbers"), json_values
)
valid_numbers = st.lists(
    st.builds(
        lambda phone, optional, extra: {"phoneNumber": phone, **optional, **extra},
        st.text(max_size=16),
        st.fixed_dictionaries(
            {},
            optional={
                "locality": st.none() | st.text(max_size=12),
                "administrativeArea": st.none() | st.text(max_size=4),
                "phoneNumberType": st.none()
                | st.sampled_from(["local", "toll_free", "mobile", "weird"]),
                "features": st.none() | st.lists(st.sampled_from(["sms", "voice", "mms", "fax"])),
            },
        ),
        st.just({}) | extra_fields,
    ),
    max_size=60,
)
wrong_items = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({"phoneNumber": json_values.filter(lambda v: not isinstance(v, str))}),
    st.fixed_dictionaries({"locality": st.text()}),  # phoneNumber missing
    st.builds(
        lambda key, value: {"phoneNumber": "+14155550100", key: value},
        st.sampled_from(["locality", "administrativeArea", "phoneNumberType"]),
        st.one_of(st.integers(), st.lists(st.text(), max_size=2)),
    ),
    st.fixed_dictionaries(
        {
            "phoneNumber": st.just("+14155550100"),
            "features": st.one_of(st.text(), st.lists(st.integers(), min_size=1)),
        }
    ),
)


TWIN_THEN_ONE = [{"phoneNumber": "+1"}, {"phoneNumber": "+1"}, {"phoneNumber": "+2"}]


def encoded(body: Any) -> bytes:
    return json.dumps(body).encode()


def without_nulls(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if value is not None}


def first_distinct(numbers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The numbers a search keeps: the first of each phoneNumber, in server order."""
    seen: dict[str, dict[str, Any]] = {}
    for number in numbers:
        seen.setdefault(number["phoneNumber"], number)
    return list(seen.values())


def truncated(content: bytes, cut: int) -> bytes:
    """A strict prefix of ``content``: never valid JSON when ``content`` is an object."""
    return content[: cut % len(content)]


def deep(depth: int, opener: str) -> bytes:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return f'{{"numbers": [], "x": {opener * depth}1{closer * depth}}}'.encode()


bodies = st.one_of(
    st.builds(
        lambda n, extra: Body("valid", encoded({"numbers": n, **extra}), n),
        valid_numbers,
        top_extra_fields,
    ),
    st.builds(
        lambda n: Body(
            "valid-gzip",
            gzip.compress(encoded({"numbers": n})),
            n,
            headers={"Content-Encoding": "gzip"},
        ),
        valid_numbers,
    ),
    st.builds(
        lambda n, codec: Body(
            f"valid-{codec}",
            json.dumps({"numbers": n}).encode(codec, "surrogatepass"),
            n,
            headers={"Content-Type": f"application/json; charset={codec}"},
        ),
        valid_numbers,
        st.sampled_from(["utf-16", "utf-32-be", "utf-8-sig"]),
    ),
    st.builds(
        lambda size: Body(
            "huge",
            encoded({"numbers": [{"phoneNumber": f"+1{i:010d}"} for i in range(size)]}),
            [{"phoneNumber": f"+1{i:010d}"} for i in range(size)],
        ),
        st.integers(1_000, 5_000),
    ),
    st.builds(
        lambda size: Body("huge-wrong", encoded({"numbers": list(range(size))})),
        st.integers(1_000, 5_000),
    ),
    st.builds(
        lambda depth, opener: Body("deep", deep(depth, opener), predictable=False),
        st.integers(10, 200_000),
        st.sampled_from(["[", '{"a":']),
    ),
    st.builds(
        lambda good, bad, at: Body(
            "wrong-item",
            encoded({"numbers": [*good[:at], bad, *good]}),
            [*good[:at], bad, *good],
            bad_at=len(good[:at]),
        ),
        valid_numbers,
        wrong_items,
        st.integers(0, 60),
    ),
    st.builds(
        lambda value: Body("wrong-numbers", encoded({"numbers": value})),
        json_values.filter(lambda v: not isinstance(v, list)),
    ),
    st.builds(
        lambda value: Body("wrong-top", encoded(value)),
        json_values.filter(lambda v: not isinstance(v, dict)),
    ),
    st.builds(
        lambda n, cut: Body("truncated", truncated(encoded({"numbers": n}), cut)),
        valid_numbers,
        st.integers(0, 10_000),
    ),
    st.builds(lambda raw: Body("random-bytes", raw, predictable=False), st.binary(max_size=600)),
    st.just(Body("empty", b"")),
    st.just(
        Body(
            "html",
            b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
            b"<body><center><h1>502 Bad Gateway</h1></center><hr>nginx</body></html>",
            headers={"Content-Type": "text/html"},
        )
    ),
)

header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
stray_headers = st.dictionaries(
    st.sampled_from(
        [
            "Content-Encoding",
            "Retry-After",
            "Content-Type",
            "Content-Length",
            "Transfer-Encoding",
            "Location",
            "Set-Cookie",
            "X-Request-Id",
        ]
    ),
    st.one_of(
        header_text,
        st.sampled_from(["gzip", "deflate", "br", "zstd", "identity", "gzip, deflate", "chunked"]),
        st.sampled_from(["1e400", "nan", "-inf", "-5", "0", "Wed, 21 Oct 2015 07:28:00 GMT"]),
        st.sampled_from(
            [
                "application/json; charset=klingon",
                "application/json; charset=utf-16",
                "text/html; charset=latin-1",
                "application/problem+json",
            ]
        ),
    ),
    max_size=3,
)
statuses = st.one_of(
    st.sampled_from([200, 201, 204, 400, 401, 402, 404, 429, 500, 502, 503, 504]),
    st.integers(100, 599),
)


def check_number(number: Any) -> None:
    """An AvailableNumber whose fields have the types the spec gives them."""
    assert isinstance(number, AvailableNumber)
    assert isinstance(number.phone_number, str)
    for value in (number.locality, number.administrative_area, number.phone_number_type):
        assert isinstance(value, str | Unset)
    assert isinstance(number.features, Unset) or all(isinstance(f, str) for f in number.features)


async def run_search(
    status: int, body: Body, headers: dict[str, str], limit: int
) -> tuple[Any, int]:
    """The search's numbers or the NumbersError it raised, and the requests it made; a hang
    fails the example."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        wire = {k.encode(): v.encode("latin-1") for k, v in {**headers, **body.headers}.items()}
        # A stream, as from a socket: content= would be decoded here, inside the transport.
        return httpx.Response(status, headers=wire, stream=httpx.ByteStream(body.content))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with NumbersClient(
        API_KEY,
        base_url=BASE_URL,
        http_client=http,
        retry_policy=RetryPolicy(sleep=SleepRecorder()),
    ) as client:
        try:
            async with asyncio.timeout(5):
                return await client.search("US", limit=limit), len(sent)
        except NumbersError as exc:
            return exc, len(sent)
        finally:
            await http.aclose()
            assert client.requests_sent == len(sent)


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(status=statuses, body=bodies, headers=stray_headers, limit=st.integers(1, 120))
@example(
    status=200, body=Body("extra", encoded({"numbers": [], "next": 1}), []), headers={}, limit=5
)
@example(status=502, body=Body("empty", b""), headers={"Retry-After": "1e400"}, limit=5)
@example(  # a full first page short of distinct numbers: the next request asks for a full page
    status=200,
    body=Body("valid", encoded({"numbers": TWIN_THEN_ONE}), TWIN_THEN_ONE),
    headers={},
    limit=2,
)
@example(status=200, body=Body("bom", b"\xff\xfe{"), headers={}, limit=1)
@example(status=502, body=Body("empty", b""), headers={"Set-Cookie": "s=\xd7\xc5"}, limit=1)
@example(  # httpx builds a 3xx's next request, with the cookie its path matches, unfollowed
    status=302, body=Body("empty", b""), headers={"Set-Cookie": "s=\x80", "Location": "x"}, limit=1
)
@example(status=400, body=Body("gzip?", b"{}"), headers={"Content-Encoding": "gzip"}, limit=1)
def search_any_response(status: int, body: Body, headers: dict[str, str], limit: int) -> None:
    """One generated response, served for every request of one search."""
    EXAMPLES_RUN.append(body.kind)
    outcome, requests = asyncio.run(run_search(status, body, headers, limit))
    if isinstance(outcome, list):
        assert len(outcome) <= limit
        assert len({number.phone_number for number in outcome}) == len(outcome)
        for number in outcome:
            check_number(number)
    else:
        assert isinstance(outcome, NumbersError)
        assert outcome.partial_numbers == [] or requests > 1
    if isinstance(outcome, APIConnectionError) and "cannot encode" in str(outcome):
        # A caller's client keeps the cookies servers set; a non-ASCII one makes its next
        # request unsendable, which the search reports instead of crashing.
        assert not headers.get("Set-Cookie", "").isascii()
        return
    if 200 <= status < 300:
        if not body.predictable or "Content-Encoding" in headers:
            return
        expected = body.expected(limit)
        if expected is None:
            assert isinstance(outcome, ResponseValidationError), outcome
        else:
            assert isinstance(outcome, list), outcome
            assert [n.to_dict() for n in outcome] == expected  # unknown fields kept as they came
    else:
        expected_error = type(error_from_response(httpx.Response(status), attempts=1))
        assert type(outcome) is expected_error, outcome
        assert isinstance(outcome, APIStatusError)
        assert outcome.status_code == status
        assert outcome.attempts == (3 if status in RETRYABLE_STATUSES else 1)


def test_any_response_yields_spec_numbers_or_a_numbers_error() -> None:
    """Any status, headers and body: spec-shaped numbers or a NumbersError, within 5 s."""
    EXAMPLES_RUN.clear()
    search_any_response()
    print(f"\nfuzz: {len(EXAMPLES_RUN)} examples, kinds: {sorted(set(EXAMPLES_RUN))}")
    assert len(EXAMPLES_RUN) >= MAX_EXAMPLES
    assert len(set(EXAMPLES_RUN)) >= 14  # every kind of body was served


# What the fuzzing found, pinned over real sockets on both transports with owned pools.


async def test_cookies_a_server_sets_are_neither_kept_nor_sent_back(transport: str) -> None:
    """A 502 setting a non-ASCII and a plain cookie: the retry succeeds and sends no cookie."""
    cookies = [("set-cookie", b"sess=\xd7\xc5\xdd@; Path=/"), ("set-cookie", b"lb=abc; Path=/")]
    server = LoopbackServer(["502"], error_headers=cookies)
    async with serve(server):
        # by name: aiohttp's own jar refuses cookies from an IP address anyway
        url = server.base_url.replace("127.0.0.1", "localhost")
        async with NumbersClient(
            API_KEY,
            base_url=url,
            transport=transport_name(transport),
            retry_policy=RetryPolicy(sleep=SleepRecorder()),
        ) as client:
            first = await client.search("US", limit=3)
            second = await client.search("US", limit=3)
    assert len(first) == len(second) == 3
    assert server.requests == 3
    assert not any(b"\ncookie:" in head.lower() for head in server.heads)


@pytest.mark.parametrize(
    ("status", "error", "requests"), [(502, None, 2), (400, BadRequestError, 1)]
)
async def test_an_undecodable_error_body_keeps_its_status_class(
    transport: str, status: int, error: type[APIStatusError] | None, requests: int
) -> None:
    """A non-2xx whose gzip body is broken is still its status's error: a 502 is retried."""
    server = LoopbackServer(
        [str(status)], error_headers=[("content-encoding", b"gzip")], error_body=b"not gzip"
    )
    async with (
        serve(server),
        NumbersClient(
            API_KEY,
            base_url=server.base_url,
            transport=transport_name(transport),
            retry_policy=RetryPolicy(sleep=SleepRecorder()),
        ) as client,
    ):
        if error is None:
            assert len(await client.search("US", limit=3)) == 3
        else:
            with pytest.raises(error) as caught:
                await client.search("US", limit=3)
            assert caught.value.status_code == status
            assert "could not be decoded as Content-Encoding 'gzip'" in str(caught.value)
    assert server.requests == requests


def transport_name(transport: str) -> Transport:
    return cast(Transport, transport)
