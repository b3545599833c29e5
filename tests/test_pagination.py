"""Pagination-by-limit: page sizes, de-duplication and every stop rule."""

import asyncio
from collections.abc import Callable

import httpx
import pytest
from helpers import numbers_body, other_tasks, seed_error

from numbers_async import (
    AvailableNumber,
    BadRequestError,
    InvalidRequestError,
    NumbersClient,
    ProviderError,
)
from numbers_async._pagination import (
    MIN_NEW_SHARE,
    PAGE_MAX,
    RECENT_PAGES,
    Deduplicator,
    PagePlan,
    continuation_page_size,
    first_page_size,
    inventory_estimate,
    pages_wanted_in_flight,
)

MakeClient = Callable[..., NumbersClient]
P = PAGE_MAX  # the spec's maximum page size


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
    ("limit", "size"),
    [(1, 1), (10, 10), (P - 1, P - 1), (P, P), (P + 1, P), (10_000, P)],
)
def test_first_page_asks_for_the_limit_at_most_a_page(limit: int, size: int) -> None:
    """The first request asks min(limit, PAGE_MAX): a search for 10 is one request of 10."""
    assert first_page_size(limit) == size


def test_continuation_pages_ask_for_a_full_page() -> None:
    """Every later request asks for the API's maximum, whatever is missing."""
    assert continuation_page_size() == PAGE_MAX


@pytest.mark.parametrize(
    ("missing", "window", "wanted"),
    [
        (20 * P, 5, 5),
        (4 * P, 5, 4),
        (2 * P + 20, 5, 3),
        (P + 1, 5, 2),
        (P, 5, 1),
        (1, 5, 1),
        (20 * P, 1, 1),
    ],
)
def test_pages_in_flight_are_bounded_by_what_is_missing(
    missing: int, window: int, wanted: int
) -> None:
    """At most the window, and no more full pages than the missing numbers could fill."""
    assert pages_wanted_in_flight(missing, window) == wanted


def test_inventory_estimate_is_schnabel_with_chapman_correction() -> None:
    """Two identical pages of 50: 50 * 50 / (50 + 1), just under the 50 seen."""
    assert inventory_estimate(50 * 50, 50) == pytest.approx(49.02, abs=0.01)


# One page: (asked, returned, distinct, new, kept).
Page = tuple[int, int, int, int, int]
FULL_NEW: Page = (50, 50, 50, 50, 50)
NOTHING_NEW: Page = (50, 50, 50, 0, 0)


@pytest.mark.parametrize(
    ("limit", "share", "pages", "reasons"),
    [
        # the total is reached
        (120, MIN_NEW_SHARE, [FULL_NEW, FULL_NEW, (50, 50, 50, 50, 20)], [None, None, "limit"]),
        # a short first page: the inventory is smaller than a page
        (100, MIN_NEW_SHARE, [(50, 30, 30, 30, 30)], ["short_page"]),
        # a short later page of new numbers after full ones is a server's slip: it goes on
        (500, MIN_NEW_SHARE, [FULL_NEW, (50, 49, 49, 49, 49), FULL_NEW], [None] * 3),
        # two short pages in a row of numbers mostly seen end it, duplicates counted in what
        # was returned
        (
            500,
            MIN_NEW_SHARE,
            [FULL_NEW, (50, 40, 40, 10, 10), (50, 49, 45, 10, 10)],
            [None, None, "short_page"],
        ),
        # an empty page after full ones, then another
        (
            500,
            MIN_NEW_SHARE,
            [FULL_NEW, (50, 0, 0, 0, 0), (50, 0, 0, 0, 0)],
            [None, None, "short_page"],
        ),
        # two slips in a row bringing new numbers: the search goes on
        (
            500,
            MIN_NEW_SHARE,
            [FULL_NEW, (50, 0, 0, 0, 0), (50, 49, 49, 49, 49), FULL_NEW],
            [None] * 4,
        ),
        # a short page of numbers already seen: nothing new, no progress (the inventory shrank)
        (500, MIN_NEW_SHARE, [FULL_NEW, (50, 30, 30, 0, 0)], [None, "no_progress"]),
        # a page of 7 for 7 asked is not short
        (7, MIN_NEW_SHARE, [(7, 7, 7, 7, 7)], ["limit"]),
        # the same 50 again: nothing new among the recent pages
        (500, MIN_NEW_SHARE, [FULL_NEW, NOTHING_NEW], [None, "no_progress"]),
        # below the share of new numbers (24 of 50 < 0.5) ends it; at the share (25) it goes on
        (500, 0.5, [FULL_NEW, (50, 50, 50, 24, 24)], [None, "no_progress"]),
        (500, 0.5, [FULL_NEW, (50, 50, 50, 25, 25)], [None, None]),
        # a page of mostly old numbers is still progress for a random sampler
        (500, MIN_NEW_SHARE, [FULL_NEW, (50, 50, 50, 45, 45), (50, 50, 50, 40, 40)], [None] * 3),
        # a trickle (49 old, 1 new, every time) is no progress: the server repeats itself
        (1000, MIN_NEW_SHARE, [FULL_NEW] + [(50, 50, 50, 1, 1)] * 7, [None] * 7 + ["no_progress"]),
        # 4 new a page (< REPEAT_NEW_SHARE) is a trickle too; 5 new (at it) is progress
        (1000, MIN_NEW_SHARE, [FULL_NEW] + [(50, 50, 50, 4, 4)] * 3, [None] * 3 + ["no_progress"]),
        (1000, MIN_NEW_SHARE, [FULL_NEW] + [(50, 50, 50, 5, 5)] * 30, [None] * 31),
        # the same 30 first on every page, 20 new: the estimate falls below the count seen (page
        # 9), but each page still brings 40 % new numbers
        (1000, MIN_NEW_SHARE, [FULL_NEW] + [(50, 50, 50, 20, 20)] * 30, [None] * 31),
        # with the share at 0, RECENT_PAGES pages in a row with nothing new end it
        (
            500,
            0.0,
            [FULL_NEW] + [NOTHING_NEW] * RECENT_PAGES,
            [None] * RECENT_PAGES + ["no_progress"],
        ),
    ],
    ids=[
        "limit",
        "short-first-page",
        "short-later-page-slip",
        "short-pages-of-seen-numbers-in-a-row",
        "empty-pages-in-a-row",
        "slips-in-a-row",
        "short-page-of-seen-numbers",
        "exact-small-page",
        "repeats",
        "below-share",
        "at-share",
        "diminishing",
        "trickle",
        "trickle-of-4",
        "5-new-a-page",
        "featured-first",
        "share-zero-backstop",
    ],
)
def test_stop_rule(limit: int, share: float, pages: list[Page], reasons: list[str | None]) -> None:
    """Each page's outcome gives the stop reason the rules promise, page by page."""
    plan = PagePlan(limit, share)
    assert [plan.record(*page) for page in pages] == reasons
    assert plan.pages == len(pages)
    assert plan.collected == sum(page[4] for page in pages)


def test_deduplicator_keeps_first_occurrence_in_order_and_counts_distinct() -> None:
    """First occurrence wins and server order is kept; the page's distinct count is returned."""
    seen = Deduplicator()
    a, b, c = (AvailableNumber(phone_number=p) for p in ("+1", "+2", "+3"))
    fresh, distinct = seen.new_numbers([a, b, a])
    assert (phones(fresh), distinct) == (["+1", "+2"], 2)
    fresh, distinct = seen.new_numbers([b, c, c, b])
    assert (phones(fresh), distinct) == (["+3"], 2)
    d, e = (AvailableNumber(phone_number=p) for p in ("+4", "+5"))
    page = [e, d]
    fresh, distinct = seen.new_numbers(page)  # all new: the set operations' way
    assert (phones(fresh), distinct) == (["+5", "+4"], 2)
    assert fresh is not page
    fresh, distinct = seen.new_numbers([AvailableNumber(phone_number="+6"), d])  # d seen
    assert (phones(fresh), distinct) == (["+6"], 2)
    assert seen.new_numbers([a, b, c, d, e]) == ([], 5)


SCENARIOS = [
    # (pages served, limit, limits asked, numbers returned, stop reason)
    (
        [numbered(0, P), numbered(P, P), numbered(2 * P, P)],
        2 * P + 20,
        [P, P, P],
        numbered(0, 2 * P + 20),
        "limit",
    ),
    # duplicates dropped (first wins, order kept); every later page asks for a full page
    (
        [numbered(0, P), numbered(P - 10, P), numbered(2 * P - 10, P)],
        2 * P,
        [P, P, P],
        numbered(0, 2 * P),
        "limit",
    ),
    # short pages of new numbers are slips; two empty ones in a row (the server has no more)
    # mean the inventory is exhausted
    (
        [numbered(0, P), numbered(P, 7), numbered(P + 7, 5)],
        10 * P,
        [P, P, P, P, P],
        numbered(0, P + 12),
        "short_page",
    ),
    # one short page after full ones is a slip: the search goes on to its total
    (
        [numbered(0, P), numbered(P, 7), numbered(P + 7, P)],
        P + 7 + 20,
        [P, P, P],
        numbered(0, P + 7 + 20),
        "limit",
    ),
    # a full page made partly of duplicates is not short: the search goes on
    (
        [numbered(0, P), numbered(P // 2, P), numbered(P + P // 2, P)],
        2 * P,
        [P, P, P],
        numbered(0, 2 * P),
        "limit",
    ),
    # the same full page again: nothing new, no progress
    (
        [numbered(0, P), numbered(0, P), numbered(P, P)],
        10 * P,
        [P, P],
        numbered(0, P),
        "no_progress",
    ),
    # a server returning more than asked never pushes the result past the total
    ([numbered(0, P + 30)], 30, [30], numbered(0, 30), "limit"),
]


@pytest.mark.parametrize("concurrency", [1, 5])
@pytest.mark.parametrize(
    ("pages", "limit", "asked", "expected", "reason"),
    SCENARIOS,
    ids=[
        "three-pages",
        "duplicates",
        "short-pages",
        "short-page-slip",
        "duplicates-count",
        "no-progress",
        "too-many",
    ],
)
async def test_request_sequence_and_result(
    make_client: MakeClient,
    pages: list[list[str]],
    limit: int,
    asked: list[int],
    expected: list[str],
    reason: str,
    concurrency: int,
) -> None:
    """The first request asks min(limit, PAGE_MAX) and the others PAGE_MAX, results are
    de-duplicated and
    every stop rule holds and is reported; with pages in flight together the result is exactly
    the one-at-a-time result (pages already in flight when a stop rule holds may add requests,
    never numbers)."""
    server = PagedServer(*pages)
    numbers = await make_client(server, page_concurrency=concurrency).search("US", limit=limit)
    assert phones(numbers) == expected
    assert (numbers.stop_reason, numbers.exhausted) == (reason, reason != "limit")
    assert numbers.requests == len(server.limits)
    one_at_a_time = server.limits if concurrency == 1 else server.limits[: len(asked)]
    assert one_at_a_time == asked
    assert all(size == P for size in server.limits[1:])


async def test_empty_inventory_returns_empty_list(make_client: MakeClient) -> None:
    """No numbers at all is an empty list after one request, not an error."""
    server = PagedServer([])
    assert await make_client(server).search("US", limit=5) == []
    assert server.limits == [5]


async def test_iter_search_yields_same_sequence(make_client: MakeClient) -> None:
    """iter_search yields exactly what search returns, in order."""
    pages = (numbered(0, P), numbered(P - 10, P), numbered(2 * P - 10, 10))  # then it runs out
    limit = 2 * P + 10
    expected = await make_client(PagedServer(*pages)).search("US", limit=limit)
    streamed = [n async for n in make_client(PagedServer(*pages)).iter_search("US", limit=limit)]
    assert phones(streamed) == phones(expected)
    assert len(streamed) == 2 * P


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
        return httpx.Response(200, json=numbers_body(numbered(len(sent) * 2 * P, P)))

    client = make_client(handler, page_concurrency=concurrency, max_retries=5)
    stream = client.iter_search("US", limit=4 * P)
    assert sent == []
    got = []
    async for number in stream:
        got.append(number)
        if len(got) == P + 10:  # inside the second page
            break
    assert other_tasks() == []  # nothing left running that could send another request
    assert sent == [P, P]
    assert client.requests_sent == 2


async def test_failure_on_a_later_page_carries_partial_numbers(make_client: MakeClient) -> None:
    """A page that fails for good raises with the numbers gathered before it."""
    responses = iter(
        [httpx.Response(200, json=numbers_body(numbered(0, P)))]
        + [httpx.Response(502, json=seed_error())] * 3
    )
    client = make_client(lambda request: next(responses), max_retries=2, page_concurrency=1)
    with pytest.raises(ProviderError) as caught:
        await client.search("US", limit=2 * P)
    assert phones(caught.value.partial_numbers) == numbered(0, P)
    assert caught.value.attempts == 3


async def test_failure_on_first_page_has_empty_partial_numbers(make_client: MakeClient) -> None:
    """When the first page fails, partial_numbers is an empty list."""
    client = make_client(lambda request: httpx.Response(400, json=seed_error("bad_request")))
    with pytest.raises(BadRequestError) as caught:
        await client.search("US", limit=100)
    assert caught.value.partial_numbers == []


def test_iter_search_checks_its_arguments_at_the_call(make_client: MakeClient) -> None:
    """A bad argument raises when iter_search is called, before any iteration or request."""
    server = PagedServer(numbered(0, P))
    client = make_client(server)
    with pytest.raises(InvalidRequestError) as caught:
        client.iter_search("USA")
    assert caught.value.argument == "country_code"
    with pytest.raises(InvalidRequestError) as caught:
        client.iter_search("US", page_concurrency=0)
    assert caught.value.argument == "page_concurrency"
    assert server.limits == []


@pytest.mark.parametrize("concurrency", [1, 5])
async def test_iter_search_says_why_it_ended(make_client: MakeClient, concurrency: int) -> None:
    """Once the stream ends, it reports the stop reason, pages and requests like search()."""
    server = PagedServer(numbered(0, P), numbered(P, P), numbered(2 * P, 7))  # then empty
    stream = make_client(server).iter_search("US", limit=10 * P, page_concurrency=concurrency)
    assert (stream.stop_reason, stream.exhausted) == (None, False)
    numbers = [number async for number in stream]
    assert phones(numbers) == numbered(0, 2 * P + 7)
    assert (stream.stop_reason, stream.exhausted, stream.pages) == ("short_page", True, 5)
    assert stream.requests == len(server.limits)


@pytest.mark.parametrize("share", [-0.1, 1.0, 2, float("nan"), "0.1", None])
def test_min_new_share_is_validated(share: object) -> None:
    """min_new_share must be a number from 0 to below 1."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient("key", base_url="http://numbers.test", min_new_share=share)  # type: ignore[arg-type]
    assert caught.value.argument == "min_new_share"
