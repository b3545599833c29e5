"""Searches started by the thousand begin in slices: at most PER_TURN page fetches start per
event-loop iteration, in arrival order, so the loop keeps serving everything else between
slices (5,000 searches at once stalled it 1.5-3.6 s before); fewer while iterations are long."""

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers import numbers_body

from numbers_async import NumbersClient
from numbers_async._gate import PER_TURN, EntryGate, next_slice
from numbers_async._pagination import PAGE_MAX

MakeClient = Callable[..., NumbersClient]


class Iterations:
    """Counts event-loop iterations: a callback that re-schedules itself runs once in each."""

    def __init__(self) -> None:
        self.count = 0
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self._handle = self._loop.call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


async def enter(gate: EntryGate) -> None:
    """What a caller does (as ``Requester.ask_turn`` and ``fetch``): pass, or await its turn."""
    waiter = gate.ask()
    if waiter is not None:
        await waiter


async def admitted(gate: EntryGate, callers: int, cancel: Callable[[int], bool]) -> list[int]:
    """The iteration in which each caller got through (-1 for those cancelled while waiting)."""
    iterations = Iterations()
    passed = [-1] * callers

    async def caller(index: int) -> None:
        await enter(gate)
        passed[index] = iterations.count

    tasks = [asyncio.ensure_future(caller(index)) for index in range(callers)]
    await asyncio.sleep(0)
    for index, task in enumerate(tasks):
        if cancel(index):
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    iterations.stop()
    return passed


async def test_at_most_per_turn_callers_pass_in_one_iteration_in_arrival_order() -> None:
    passed = await admitted(EntryGate(), 1_000, cancel=lambda index: False)
    per_iteration = [passed.count(iteration) for iteration in set(passed)]
    assert max(per_iteration) == PER_TURN
    assert len(per_iteration) >= 1_000 // PER_TURN
    assert passed == sorted(passed)  # first come, first through


async def test_a_caller_cancelled_while_waiting_takes_no_turn() -> None:
    # the first 10 pass at once; of the 90 waiting, the odd ones are cancelled
    def waiting_and_odd(index: int) -> bool:
        return index >= 10 and index % 2 == 1

    passed = await admitted(EntryGate(per_turn=10), 100, cancel=waiting_and_odd)
    assert [when for index, when in enumerate(passed) if waiting_and_odd(index)] == [-1] * 45
    through = [when for index, when in enumerate(passed) if not waiting_and_odd(index)]
    assert min(through) >= 0
    # 10 at once, then the 45 that kept waiting in slices of 10: the cancelled left no gap
    assert [through.count(when) for when in sorted(set(through))] == [10, 10, 10, 10, 10, 5]


async def test_a_lone_caller_passes_without_waiting_for_an_iteration() -> None:
    gate = EntryGate()
    iterations = Iterations()
    for _ in range(PER_TURN):
        await enter(gate)
    assert iterations.count == 0
    iterations.stop()


async def test_every_page_fetch_of_a_search_goes_through_the_gate(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered = 0
    ask = EntryGate.ask

    def counted(gate: EntryGate) -> asyncio.Future[None] | None:
        nonlocal entered
        entered += 1
        return ask(gate)

    monkeypatch.setattr(EntryGate, "ask", counted)
    served = itertools.count()

    def fresh_numbers(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        numbers = [f"+1415555{next(served):04d}" for _ in range(limit)]
        return httpx.Response(200, json=numbers_body(numbers))

    client = make_client(fresh_numbers)
    numbers = await client.search("US", limit=3 * PAGE_MAX)
    assert len(numbers) == 3 * PAGE_MAX
    assert numbers.requests == 3
    assert entered == 1 + numbers.requests  # the search's own setup, then each page fetch


async def test_searches_gathered_by_the_thousand_set_up_in_slices(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No loop iteration validates and builds more than PER_TURN searches' pagers: 1,000
    searches gathered at once once built all 1,000 in their first iteration."""
    iterations = Iterations()
    built: list[int] = []
    pager = NumbersClient._pager

    def counted(client: NumbersClient, *args: Any) -> Any:
        built.append(iterations.count)
        return pager(client, *args)

    monkeypatch.setattr(NumbersClient, "_pager", counted)
    client = make_client(lambda request: httpx.Response(200, json=numbers_body(["+14155550100"])))
    results = await asyncio.gather(*(client.search("US", limit=1) for _ in range(1_000)))
    iterations.stop()
    assert [len(result) for result in results] == [1] * 1_000
    assert len(built) == 1_000
    assert max(built.count(iteration) for iteration in set(built)) <= PER_TURN


@pytest.mark.parametrize(
    ("current", "iteration", "expected"),
    [(32, 0.011, 16), (3, 0.05, 1), (1, 1.0, 1), (16, 0.009, 17), (32, 0.0, 32), (31, 0.01, 32)],
)
def test_the_slice_halves_after_a_long_iteration_and_grows_by_one_after_a_short_one(
    current: int, iteration: float, expected: int
) -> None:
    assert next_slice(current, iteration, most=32, target=0.01) == expected


async def test_the_slice_shrinks_while_the_loop_is_slow_and_grows_back_once_it_is_not() -> None:
    """Iterations of 15 ms (another callback busy each time) against a 10 ms target: the gate
    soon lets one caller through per iteration; once iterations are short, one more each time."""
    loop = asyncio.get_running_loop()
    gate = EntryGate(per_turn=PER_TURN, target=0.01)
    slow = True

    def busy() -> None:
        if slow:
            time.sleep(0.015)
            loop.call_soon(busy)

    loop.call_soon(busy)
    passed = await admitted(gate, 100, cancel=lambda index: False)
    per_iteration = [passed.count(iteration) for iteration in sorted(set(passed))]
    # the first slice passes at once, the second is unmeasured: then halved each time
    assert per_iteration[:4] == [PER_TURN, PER_TURN, PER_TURN // 2, PER_TURN // 4]
    assert per_iteration[-5:] == [1] * 5
    slow = False
    passed = await admitted(gate, 100, cancel=lambda index: False)
    per_iteration = [passed.count(iteration) for iteration in sorted(set(passed))]
    # one more per short iteration (a preempted one may halve it again on a busy machine)
    assert per_iteration[0] == 1
    assert max(per_iteration) >= 8


async def test_a_search_waiting_at_the_gate_or_for_a_turn_holds_no_coroutine_of_ours(
    make_client: MakeClient,
) -> None:
    """5,000 searches at once mostly wait, and each object a waiting search holds is one more
    for every full garbage collection to walk (benchmarks W6): the search's own coroutine
    awaits the gate's or the turn's future itself, with no coroutine of the client's between."""
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=numbers_body(["+14155550100"]))

    client = make_client(slow)
    searches = client._requester.running_limit + 2 * PER_TURN
    tasks = [asyncio.ensure_future(client.search("US", limit=1)) for _ in range(searches)]

    def awaited_by_the_last() -> list[object]:
        return [task.get_coro().cr_await for task in tasks[-PER_TURN:]]  # type: ignore[union-attr]

    await asyncio.sleep(0)  # one slice passed the gate; the last searches wait there
    assert not any(asyncio.iscoroutine(awaited) for awaited in awaited_by_the_last())
    for _ in range(2 * searches // PER_TURN):  # every search passed it; the last wait for a turn
        await asyncio.sleep(0)
    assert client._requester._admission._waiting
    assert not any(asyncio.iscoroutine(awaited) for awaited in awaited_by_the_last())
    release.set()
    results = await asyncio.gather(*tasks)
    assert [len(result) for result in results] == [1] * searches
