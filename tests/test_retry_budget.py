"""The retry budget: retries capped by a share of recent first attempts plus a floor, so an
outage does not multiply the provider's load."""

import asyncio
from collections.abc import Callable
from typing import cast

import httpx
import pytest
from loopback import LoopbackServer, serve_in_thread

from numbers_async import InvalidRequestError, NumbersClient, ProviderError, RetryBudget
from numbers_async._budget import RetryLedger
from numbers_async._transports import Transport

MakeClient = Callable[..., NumbersClient]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spend(ledger: RetryLedger) -> int:
    """Retries the ledger allows right now, taking each."""
    taken = 0
    while ledger.can_retry():
        ledger.withdraw()
        taken += 1
    return taken


@pytest.mark.parametrize(
    ("budget", "first_attempts", "allowed"),
    [
        (RetryBudget(ratio=0.5, min_per_second=10, window=10), 0, 100),  # the floor alone
        (RetryBudget(ratio=0.5, min_per_second=10, window=10), 1000, 600),
        (RetryBudget(ratio=0.2, min_per_second=0, window=10), 1000, 200),
        (RetryBudget(ratio=0.0, min_per_second=0, window=10), 1000, 0),
        (RetryBudget(ratio=1.0, min_per_second=1, window=2), 5, 7),
    ],
)
def test_retries_allowed_are_ratio_of_first_attempts_plus_floor(
    budget: RetryBudget, first_attempts: int, allowed: int
) -> None:
    """Within one window: ratio * first attempts + min_per_second * window retries, no more."""
    ledger = RetryLedger(budget, Clock())
    for _ in range(first_attempts):
        ledger.deposit()
    assert spend(ledger) == allowed


def test_the_window_forgets_old_attempts_and_retries() -> None:
    """Counts older than the window stop counting: the floor refills, old deposits expire."""
    clock = Clock()
    ledger = RetryLedger(RetryBudget(ratio=0.5, min_per_second=1, window=10), clock)
    for _ in range(100):
        ledger.deposit()
    assert spend(ledger) == 60
    clock.now += 5  # half a window: nothing forgotten yet
    assert spend(ledger) == 0
    clock.now += 5.5  # the first slice has left the window: its deposits and retries with it
    assert spend(ledger) == 10  # the floor again
    clock.now += 1000
    for _ in range(10):
        ledger.deposit()
    assert spend(ledger) == 15


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratio", -0.1),
        ("ratio", float("nan")),
        ("min_per_second", float("inf")),
        ("min_per_second", "10"),
        ("window", 0),
        ("window", -1),
    ],
)
def test_budget_refuses_invalid_fields(field: str, value: object) -> None:
    """An invalid RetryBudget cannot exist: InvalidRequestError names the field."""
    with pytest.raises(InvalidRequestError) as caught:
        RetryBudget(**{field: value})  # type: ignore[arg-type]
    assert caught.value.argument == field


async def test_an_exhausted_budget_raises_the_failure_saying_so(make_client: MakeClient) -> None:
    """With the budget spent, a 502 is raised at once, with a note naming the budget."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(502)

    client = make_client(handler, retry_budget=RetryBudget(ratio=0, min_per_second=0.1, window=10))
    with pytest.raises(ProviderError) as caught:
        await client.search("US")  # the floor (0.1/s over 10 s) allows one retry
    assert caught.value.attempts == 2
    assert caught.value.__notes__ == [
        "numbers-async: not retried: the retry budget is exhausted (too many recent retries)"
    ]
    with pytest.raises(ProviderError) as caught:
        await client.with_options(max_retries=5).search("US")  # a derived client shares it
    assert caught.value.attempts == 1
    assert len(sent) == 3


async def test_no_budget_retries_every_time(make_client: MakeClient) -> None:
    """retry_budget=None: every search gets its max_retries."""
    client = make_client(lambda request: httpx.Response(502), retry_budget=None, max_retries=3)
    for _ in range(50):
        with pytest.raises(ProviderError) as caught:
            await client.search("US")
        assert caught.value.attempts == 4
    assert client.retry_budget is None


# The bar: 1,000 searches, at most 1.6 requests each (`slow`: make test-slow and CI).
# `make test` runs 200, whose bound is the budget's own: 1 + ratio + min_per_second * window / N.
OUTAGES = [
    pytest.param(200, 1 + 0.5 + 2 * 30 / 200, id="200"),
    pytest.param(1_000, 1.6, id="1000", marks=[pytest.mark.slow, pytest.mark.timeout(300)]),
]
# httpx's pool (httpx2's too) does work per waiting request for every request it hands out, so
# 1,000 requests waiting on its 100 connections end in PoolTimeouts before any is sent (the
# same without this budget; README, "Performance"): over httpx the searches go 100 at a time.
IN_FLIGHT = {"httpx": 100, "httpx2": 100, "aiohttp": 1_000}


@pytest.mark.parametrize(("searches", "bound"), OUTAGES)
async def test_a_total_outage_gets_at_most_1_6_requests_per_search(
    transport: str, searches: int, bound: float
) -> None:
    """1,000 concurrent searches against a provider answering only 502, max_retries=2, the
    default budget: at most 1.6 requests per search reach it (3 without the budget)."""
    gate = asyncio.Semaphore(IN_FLIGHT[transport])

    async def one(client: NumbersClient) -> BaseException | None:
        async with gate:
            try:
                await client.search("US", limit=10)
            except Exception as exc:  # asserted below to be the 502
                return exc
            return None

    async with serve_in_thread(LoopbackServer(default="502")) as server:
        async with NumbersClient(
            "sk_outage",
            base_url=server.base_url,
            transport=cast(Transport, transport),
            max_retries=2,
            retry_initial_delay=0.01,  # short waits keep the test fast; the budget is per window
        ) as client:
            outcomes = await asyncio.gather(*(one(client) for _ in range(searches)))
        requests = server.requests
    print(f"\noutage[{transport}]: {requests} requests for {searches} searches")
    assert all(isinstance(outcome, ProviderError) for outcome in outcomes), {
        repr(outcome) for outcome in outcomes
    }
    assert requests == client.requests_sent
    assert requests / searches <= bound
