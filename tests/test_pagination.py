"""Pagination-by-limit: page sizes, de-duplication and every stop rule."""

import asyncio
from collections.abc import Callable

import httpx
import pytest
from helpers import numbers_body, seed_error

from numbers_async import AvailableNumber, BadRequestError, NumbersClient, ProviderError
from numbers_async._pagination import Deduplicator, is_last_page, next_page_size

MakeClient = Callable[..., NumbersClient]


def numbered(start: int, count: int) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(start, start + count)]


class PagedServer:
    """A fake API serving scripted pages (lists of phone numbers) in order, recording limits."""

    def __init__(self, *pages: list[str]) -> None:
        self.pages = list(pages)
        self.limits: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.limits.append(int(request.url.params["limit"]))
        page = self.pages.pop(0) if self.pages else []
        return httpx.Response(200, json=numbers_body(page))


def phones(numbers: list[AvailableNumber]) -> list[str]:
    return [number.phone_number for number in numbers]


@pytest.mark.parametrize(
    ("remaining", "size"), [(1, 1), (20, 20), (49, 49), (50, 50), (51, 50), (10_000, 50)]
)
def test_next_page_size(remaining: int, size: int) -> None:
    """A page asks for min(50, remaining)."""
    assert next_page_size(remaining) == size


@pytest.mark.parametrize(
    ("asked", "returned", "new", "remaining", "last"),
    [
        (50, 50, 50, 70, False),  # full page, all new, more wanted
        (50, 50, 10, 60, False),  # some duplicates: still progress
        (20, 20, 20, 0, True),  # total reached
        (50, 49, 49, 21, True),  # short page: inventory exhausted
        (50, 30, 0, 50, True),  # short page of duplicates
        (50, 50, 0, 50, True),  # no progress
        (20, 80, 20, 0, True),  # server sent more than asked
    ],
)
def test_stop_rule(asked: int, returned: int, new: int, remaining: int, last: bool) -> None:
    """Stop at the total, on a short page (duplicates counted) or when nothing is new."""
    assert is_last_page(asked, returned, new, remaining) is last


def test_deduplicator_keeps_first_occurrence_in_order_and_respects_room() -> None:
    """First occurrence wins, server order is kept, and at most `room` come back."""
    seen = Deduplicator()
    a, b, c = (AvailableNumber(phone_number=p) for p in ("+1", "+2", "+3"))
    assert phones(seen.new_numbers([a, b, a], room=10)) == ["+1", "+2"]
    assert phones(seen.new_numbers([b, c, AvailableNumber(phone_number="+4")], room=1)) == ["+3"]


SCENARIOS = [
    # (pages served, limit, limits asked, numbers returned)
    ([numbered(0, 50), numbered(50, 50), numbered(100, 20)], 120, [50, 50, 20], numbered(0, 120)),
    # duplicates dropped (first wins, order kept); the next page asks for what is missing
    ([numbered(0, 50), numbered(40, 50), numbered(90, 10)], 100, [50, 50, 10], numbered(0, 100)),
    # a short page means the inventory is exhausted
    ([numbered(0, 50), numbered(50, 7), numbered(57, 50)], 500, [50, 50], numbered(0, 57)),
    # a full page made partly of duplicates is not short: the search goes on
    ([numbered(0, 50), numbered(25, 50), numbered(75, 5)], 200, [50, 50, 50], numbered(0, 80)),
    # a full page of already-seen numbers ends the search (no progress)
    ([numbered(0, 50), numbered(0, 50), numbered(50, 50)], 500, [50, 50], numbered(0, 50)),
    # a server returning more than asked never pushes the result past the total
    ([numbered(0, 80)], 30, [30], numbered(0, 30)),
]


@pytest.mark.parametrize("concurrency", [1, 5])
@pytest.mark.parametrize(
    ("pages", "limit", "asked", "expected"),
    SCENARIOS,
    ids=["three-pages", "duplicates", "short-page", "duplicates-count", "no-progress", "too-many"],
)
async def test_request_sequence_and_result(
    make_client: MakeClient,
    pages: list[list[str]],
    limit: int,
    asked: list[int],
    expected: list[str],
    concurrency: int,
) -> None:
    """Each request asks min(50, missing), results are de-duplicated and every stop rule holds;
    with pages in flight together the result is exactly the one-at-a-time result (pages
    already in flight when a stop rule holds may add requests, never numbers)."""
    server = PagedServer(*pages)
    numbers = await make_client(server, page_concurrency=concurrency).search("US", limit=limit)
    assert phones(numbers) == expected
    one_at_a_time = server.limits if concurrency == 1 else server.limits[: len(asked)]
    assert one_at_a_time == asked


async def test_empty_inventory_returns_empty_list(make_client: MakeClient) -> None:
    """No numbers at all is an empty list after one request, not an error."""
    server = PagedServer([])
    assert await make_client(server).search("US", limit=5) == []
    assert server.limits == [5]


async def test_iter_search_yields_same_sequence(make_client: MakeClient) -> None:
    """iter_search yields exactly what search returns, in order."""
    pages = (numbered(0, 50), numbered(40, 50), numbered(90, 30))
    expected = await make_client(PagedServer(*pages)).search("US", limit=110)
    streamed = [n async for n in make_client(PagedServer(*pages)).iter_search("US", limit=110)]
    assert phones(streamed) == phones(expected)
    assert len(streamed) == 110


@pytest.mark.parametrize("concurrency", [1, 5])
async def test_iter_search_is_lazy_and_stops_when_caller_breaks(
    make_client: MakeClient, concurrency: int
) -> None:
    """No request before iteration; breaking out (the generator still referenced, not closed)
    sends no more, even while the next page would fail and be retried."""
    sent: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(int(request.url.params["limit"]))
        if len(sent) > 2:
            await asyncio.sleep(0.01)
            return httpx.Response(502)
        return httpx.Response(200, json=numbers_body(numbered(len(sent) * 100, 50)))

    client = make_client(handler, page_concurrency=concurrency, max_retries=5)
    stream = client.iter_search("US", limit=200)
    assert sent == []
    got = []
    async for number in stream:
        got.append(number)
        if len(got) == 60:  # inside the second page
            break
    await asyncio.sleep(0.1)
    assert sent == [50, 50]
    assert client.requests_sent == 2


async def test_failure_on_a_later_page_carries_partial_numbers(make_client: MakeClient) -> None:
    """A page that fails for good raises with the numbers gathered before it."""
    responses = iter(
        [httpx.Response(200, json=numbers_body(numbered(0, 50)))]
        + [httpx.Response(502, json=seed_error())] * 3
    )
    client = make_client(lambda request: next(responses), max_retries=2, page_concurrency=1)
    with pytest.raises(ProviderError) as caught:
        await client.search("US", limit=100)
    assert phones(caught.value.partial_numbers) == numbered(0, 50)
    assert caught.value.attempts == 3


async def test_failure_on_first_page_has_empty_partial_numbers(make_client: MakeClient) -> None:
    """When the first page fails, partial_numbers is an empty list."""
    client = make_client(lambda request: httpx.Response(400, json=seed_error("bad_request")))
    with pytest.raises(BadRequestError) as caught:
        await client.search("US", limit=100)
    assert caught.value.partial_numbers == []
