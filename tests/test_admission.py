"""At most ``running_limit`` searches run at once per client (one per pooled connection); the
rest wait their turn holding a task and a future, no pages, requests or engine state, so the
heap a garbage collection walks stays small with thousands of searches at once. A search asleep
before a retry gives its turn back meanwhile."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
import httpx2
import pytest
from helpers import API_KEY, loop_clock, numbers_body, since, until
from loopback import LoopbackServer, serve

from numbers_async import (
    APITimeoutError,
    ClientClosedError,
    InvalidRequestError,
    NumbersClient,
    RetryPolicy,
    SearchInfo,
    SearchResult,
    Timeouts,
    _request,
    _transports,
)

MakeClient = Callable[..., NumbersClient]


class Held:
    """A handler that answers only once ``release`` is set, counting requests and pagers."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.requests = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        await self.release.wait()
        return httpx.Response(200, json=numbers_body(["+14155550100"]))


@pytest.fixture
def limit_of_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients made in the test run at most 3 searches at once (3 per connection, 1 known)."""
    monkeypatch.setattr(_request, "POOL_SIZE", 1)
    monkeypatch.setattr(_request, "RUNNING_PER_CONNECTION", 3)


def count_pagers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built = [0]
    pager = NumbersClient._pager

    def counted(client: NumbersClient, *args: Any) -> Any:
        built[0] += 1
        return pager(client, *args)

    monkeypatch.setattr(NumbersClient, "_pager", counted)
    return built


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def start_searches(client: NumbersClient, searches: int) -> list[asyncio.Task[SearchResult]]:
    """``searches`` one-number searches on ``client``, each as far as it gets by itself."""
    tasks = [asyncio.create_task(client.search("US", limit=1)) for _ in range(searches)]
    await settle()
    return tasks


async def test_searches_past_the_limit_wait_their_turn_without_setting_up(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, limit_of_3: None
) -> None:
    built = count_pagers(monkeypatch)
    held = Held()
    client = make_client(held)
    assert client._requester.running_limit == 3
    tasks = await start_searches(client, 10)
    assert (held.requests, built[0]) == (3, 3)
    held.release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert [len(result) for result in results] == [1] * 10
    assert (held.requests, built[0]) == (10, 10)


async def test_a_search_cancelled_while_waiting_takes_no_turn_and_frees_none(
    make_client: MakeClient, limit_of_3: None
) -> None:
    held = Held()
    client = make_client(held)
    tasks = await start_searches(client, 8)
    for task in tasks[3:6]:  # three waiting
        task.cancel()
    tasks[0].cancel()  # and one running
    await settle()
    held.release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    cancelled = [isinstance(outcome, asyncio.CancelledError) for outcome in outcomes]
    assert cancelled == [True, False, False, True, True, True, False, False]
    assert held.requests == 5  # the 3 first, then the 2 waiting that were not cancelled
    # every turn came back: 3 more run at once again
    held.release.clear()
    more = await start_searches(client, 4)
    assert held.requests == 5 + 3
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*more), 5)


async def test_a_turn_given_to_a_search_cancelled_before_it_resumed_passes_on(
    make_client: MakeClient, limit_of_3: None
) -> None:
    """A turn freed in the iteration in which its waiting search is cancelled goes to the next
    waiting search instead of being lost."""
    held = Held()
    client = make_client(held)
    tasks = await start_searches(client, 5)  # 3 running, 2 waiting
    assert held.requests == 3
    client._requester._admission.leave()  # a turn for tasks[3]...
    tasks[3].cancel()  # ...which is cancelled before it resumes
    await settle()
    assert tasks[3].cancelled()
    assert held.requests == 4  # tasks[4] got the turn
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks[:3], tasks[4]), 5)


async def test_a_search_waits_no_longer_than_the_pool_timeout(
    make_client: MakeClient, limit_of_3: None
) -> None:
    held = Held()
    client = make_client(held, timeout=Timeouts(pool=0.2))
    running = await start_searches(client, 3)
    started = loop_clock()
    with pytest.raises(APITimeoutError, match="pool timeout") as caught:
        await client.search("US", limit=1)
    assert 0.2 <= since(started) < 2.0
    assert caught.value.attempts == 0
    assert caught.value.__suppress_context__  # no "during handling of TimeoutError" in its trace
    assert held.requests == 3  # it sent nothing
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*running), 5)


async def test_closing_the_client_ends_the_searches_waiting_their_turn(
    make_client: MakeClient, limit_of_3: None
) -> None:
    held = Held()
    client = make_client(held)
    tasks = await start_searches(client, 6)
    await client.aclose()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 2)
    assert [type(outcome) for outcome in outcomes] == [ClientClosedError] * 6
    assert held.requests == 3


class Outcomes:
    """Hooks recording each search's start and its error's class at its finish."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def search_started(self, search: SearchInfo) -> None:
        self.events.append("started")

    def search_finished(self, search: SearchInfo) -> None:
        self.events.append(type(search.error).__name__)


@pytest.mark.parametrize("ending", ["pool timeout", "deadline", "close"])
async def test_the_hooks_see_a_search_that_never_got_its_turn(
    make_client: MakeClient, limit_of_3: None, ending: str
) -> None:
    """3 searches hold the turns: a fourth ends waiting (its pool timeout, its deadline, its
    client closed) and the hooks see it start and finish with its error (they saw nothing:
    the overload failures an operator most needs counted)."""
    held, outcomes = Held(), Outcomes()
    client = make_client(held, hooks=[outcomes])
    running = await start_searches(client, 3)
    endings: dict[str, dict[str, Any]] = {
        "pool timeout": {"timeout": Timeouts(pool=0.1)},
        "deadline": {"deadline": 0.1},
        "close": {},
    }
    other = client.with_options(
        **endings[ending]
    )  # the waiting search's own settings (and closing)
    waiting = asyncio.create_task(other.search("US", limit=1))
    await settle()
    if ending == "close":
        await other.aclose()
    with pytest.raises(ClientClosedError if ending == "close" else APITimeoutError):
        await asyncio.wait_for(waiting, 2)
    expected = "ClientClosedError" if ending == "close" else "APITimeoutError"
    assert outcomes.events == ["started"] * 3 + ["started", expected]
    assert held.requests == 3
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), 5)


async def test_derived_clients_share_the_turns(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, limit_of_3: None
) -> None:
    held = Held()
    client = make_client(held)
    derived = client.with_options(max_retries=0)
    tasks = [asyncio.create_task(c.search("US", limit=1)) for c in (client, derived) * 3]
    await settle()
    assert held.requests == 3
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert held.requests == 6


async def test_a_search_refused_for_its_arguments_gives_its_turn_back(
    make_client: MakeClient, limit_of_3: None
) -> None:
    held = Held()
    client = make_client(held)
    for _ in range(5):
        with pytest.raises(InvalidRequestError, match="country_code"):
            await client.search("USA")
    tasks = await start_searches(client, 4)
    assert held.requests == 3
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)


async def test_a_bad_argument_fails_at_once_while_every_turn_is_taken(
    make_client: MakeClient, limit_of_3: None
) -> None:
    """Arguments are checked before the wait for a turn: a busy client names the bad one at
    once, not with the pool timeout's APITimeoutError (here 30 s) once a turn comes."""
    held = Held()
    client = make_client(held, timeout=Timeouts(connect=5, read=5, pool=30))
    tasks = await start_searches(client, 3)
    assert held.requests == 3
    bad: list[tuple[str, dict[str, Any]]] = [
        ("country_code", {"country_code": "USA"}),
        ("limit", {"country_code": "US", "limit": 0}),
        ("area_code", {"country_code": "US", "area_code": "41x"}),
    ]
    for name, arguments in bad:
        with pytest.raises(InvalidRequestError, match=name):
            await asyncio.wait_for(client.search(**arguments), 2)
    with pytest.raises(TypeError, match="colour"):
        await asyncio.wait_for(client.search("US", colour="red"), 2)  # type: ignore[call-arg]
    assert held.requests == 3
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert len(await client.search("US", limit=1)) == 1  # no turn was lost to the bad ones


async def test_the_wait_for_a_turn_counts_toward_the_deadline(
    make_client: MakeClient, limit_of_3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one search running at a time and pages taking 0.2 s, a second search with a 0.3 s
    deadline waits 0.2 s for its turn: its page would end at 0.4 s, past its deadline."""
    monkeypatch.setattr(_request, "RUNNING_PER_CONNECTION", 1)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return httpx.Response(200, json=numbers_body(["+14155550100"]))

    client = make_client(slow)
    first = asyncio.create_task(client.search("US", limit=1))
    await settle()
    started = loop_clock()
    with pytest.raises(APITimeoutError, match=r"deadline \(0.3 s\) passed"):
        await client.with_options(deadline=0.3).search("US", limit=1)
    assert 0.3 <= since(started) < 1.0
    assert len(await first) == 1


async def test_a_deadline_shorter_than_the_pool_timeout_bounds_the_wait_for_a_turn(
    make_client: MakeClient, limit_of_3: None
) -> None:
    held = Held()
    client = make_client(held)
    running = await start_searches(client, 3)
    started = loop_clock()
    with pytest.raises(APITimeoutError, match="passed while it waited for its turn") as caught:
        await client.with_options(deadline=0.2).search("US", limit=1)
    assert 0.2 <= since(started) < 2.0
    assert caught.value.partial_numbers == []
    assert held.requests == 3
    held.release.set()
    await asyncio.wait_for(asyncio.gather(*running), 5)


class FailsFirst(Held):
    """A 502 to the first request; later ones answer at once, or once ``release`` is set
    while ``holding``."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests == 1:
            return httpx.Response(502)
        if self.holding:
            await self.release.wait()
        return httpx.Response(200, json=numbers_body(["+14155550100"]))


async def test_a_search_waiting_to_retry_lets_a_waiting_search_run(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one search running at a time, a search asleep before its retry gives its turn to the
    next, takes one back when it wakes, and the limit holds again afterwards."""
    monkeypatch.setattr(_request, "POOL_SIZE", 1)
    monkeypatch.setattr(_request, "RUNNING_PER_CONNECTION", 1)
    wake = asyncio.Event()
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        await wake.wait()

    server = FailsFirst()
    client = make_client(server, retry_policy=RetryPolicy(sleep=sleep))
    first = asyncio.create_task(client.search("US", limit=1))
    await settle()
    assert (server.requests, len(delays)) == (1, 1)  # first got its 502 and sleeps
    assert len(await asyncio.wait_for(client.search("US", limit=1), 2)) == 1
    wake.set()
    assert len(await asyncio.wait_for(first, 2)) == 1
    server.holding = True
    tasks = await start_searches(client, 3)
    assert server.requests == 3 + 1  # one runs at a time again
    server.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert server.requests == 3 + 3


async def test_a_search_cancelled_while_waiting_to_retry_loses_no_turn(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_request, "POOL_SIZE", 1)
    monkeypatch.setattr(_request, "RUNNING_PER_CONNECTION", 2)

    async def sleep(delay: float) -> None:
        await asyncio.Event().wait()

    server = FailsFirst()
    client = make_client(server, retry_policy=RetryPolicy(sleep=sleep))
    asleep = asyncio.create_task(client.search("US", limit=1))
    await settle()
    asleep.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asleep
    server.holding = True
    tasks = await start_searches(client, 3)
    assert server.requests == 1 + 2  # two at a time, as before
    server.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)


async def test_a_search_cancelled_while_another_runs_on_its_excess_turn_pays_it_off(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A asleep to retry gives its turn to B; cancelled, A takes one back past the limit and
    returns it as it ends: C, waiting, must still not run beside B."""
    monkeypatch.setattr(_request, "POOL_SIZE", 1)
    monkeypatch.setattr(_request, "RUNNING_PER_CONNECTION", 1)

    async def sleep(delay: float) -> None:
        await asyncio.Event().wait()

    server = FailsFirst()
    server.holding = True
    client = make_client(server, retry_policy=RetryPolicy(sleep=sleep))
    (asleep,) = await start_searches(client, 1)
    running, waiting = await start_searches(client, 2)
    assert server.requests == 2  # A's 502, then B
    asleep.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asleep
    await settle()
    assert server.requests == 2  # C still waits
    server.release.set()
    await asyncio.wait_for(asyncio.gather(running, waiting), 5)
    assert server.requests == 3


class DistinctPages:
    """New numbers on every page, as many as asked; a 502 to request number ``fail``."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests == self.fail:
            return httpx.Response(502)
        size = int(request.url.params["limit"])
        first = self.requests * 100
        return httpx.Response(
            200, json=numbers_body([f"+1415{first + i:07d}" for i in range(size)])
        )


async def test_a_search_whose_only_unfinished_page_sleeps_lets_a_waiting_search_run(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """page_concurrency=3: the search's first concurrent page gets a 502 and sleeps while its
    other pages are read; with nothing of it running, its turn goes to the waiting search."""
    monkeypatch.setattr(_request, "POOL_SIZE", 1)
    monkeypatch.setattr(_request, "RUNNING_PER_CONNECTION", 1)
    wake = asyncio.Event()

    async def sleep(delay: float) -> None:
        await wake.wait()

    server = DistinctPages(fail=2)  # the first page comes alone, then three at once
    client = make_client(server, retry_policy=RetryPolicy(sleep=sleep), page_concurrency=3)
    client._requester.connections = 3  # one search at a time, its three pages at once
    large = asyncio.create_task(client.search("US", limit=200))
    await settle()
    assert len(await asyncio.wait_for(client.search("US", limit=1), 2)) == 1
    assert not large.done()
    wake.set()
    assert len(await asyncio.wait_for(large, 2)) == 200


async def test_as_many_searches_run_as_the_owned_pool_has_connections() -> None:
    client = NumbersClient("sk_test_turns", base_url="http://127.0.0.1:9")
    async with client:
        assert client._requester.running_limit == _transports.POOL_SIZE == 100


@pytest.mark.parametrize("kind", ["httpx", "httpx2"])
async def test_an_iter_search_waits_no_longer_than_the_pool_timeout(kind: str) -> None:
    """iter_search takes no turn: with a caller's one-connection pool held by a stalled search,
    its page still fails with the pool timeout's APITimeoutError, not waiting for ever, and
    saying so."""
    module: Any = httpx2 if kind == "httpx2" else httpx
    http = module.AsyncClient(limits=module.Limits(max_connections=1, max_keepalive_connections=1))
    async with serve(LoopbackServer(default="stall")) as server:
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            http_client=http,
            timeout=Timeouts(connect=5.0, read=8.0, pool=0.5),
            max_retries=0,
        )
        holder = asyncio.create_task(client.search("US"))
        await asyncio.sleep(0.3)  # it holds the one connection
        started = loop_clock()
        with pytest.raises(APITimeoutError) as caught:
            await asyncio.wait_for(anext(aiter(client.iter_search("US"))), 4)
        assert 0.5 <= since(started) < 3.0
        # what it waited for, on both (httpcore2's own said "Cancelled via cancel scope 7f..")
        assert str(caught.value).endswith(": no connection was free within the pool timeout")
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder
        await client.aclose()
    await http.aclose()


async def test_aiohttps_pool_timeout_is_reported_as_the_other_engines_is() -> None:
    """The owned aiohttp pool's 100 connections held by stalled searches: an iter_search's page
    waits for one until the pool timeout and says so, as httpx's pools do (aiohttp raises the
    error of a connect that timed out: "ConnectTimeout ...: Connection timeout to host")."""
    async with serve(LoopbackServer(default="stall")) as server:
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            transport="aiohttp",
            timeout=Timeouts(connect=5.0, read=8.0, pool=0.5),
            max_retries=0,
        )
        holders = [asyncio.create_task(client.search("US")) for _ in range(_transports.POOL_SIZE)]
        assert await until(lambda: server.open_connections == _transports.POOL_SIZE)
        with pytest.raises(APITimeoutError) as caught:
            await asyncio.wait_for(anext(aiter(client.iter_search("US"))), 4)
        assert str(caught.value).endswith(": no connection was free within the pool timeout")
        assert str(caught.value).startswith("PoolTimeout after 1 attempt(s)")
        for holder in holders:
            holder.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
        await client.aclose()
