"""``Admission`` and ``Turn`` (_admission.py) on their own: turns in arrival order, time limits
served by one timer, no turn lost to a waiter that was cancelled or timed out, and a search's
turn given back while it waits to retry."""

import asyncio
from typing import Any

import pytest

from numbers_async._admission import Admission, Turn


async def enter(admission: Admission, expires_at: float | None = None) -> None:
    """What a caller does (as ``NumbersClient.search`` with ``Requester.ask_turn``): take a
    turn, or await one, abandoning it if cancelled."""
    waiter = admission.ask(expires_at)
    if waiter is not None:
        try:
            await waiter
        except asyncio.CancelledError:
            admission.abandon(waiter)
            raise


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def held(limit: int = 1) -> Admission:
    """An Admission with all its ``limit`` turns taken."""
    admission = Admission(limit)
    for _ in range(limit):
        await enter(admission)
    return admission


async def taken(admission: Admission, expires_at: float | None = None) -> asyncio.Task[None]:
    """A task waiting in ``enter(admission)``, already queued."""
    task = asyncio.create_task(enter(admission, expires_at))
    await settle()
    return task


async def test_turns_go_to_waiters_in_arrival_order() -> None:
    admission = await held(2)
    order: list[int] = []

    async def wait(number: int) -> None:
        await enter(admission)
        order.append(number)

    tasks = [asyncio.create_task(wait(number)) for number in range(5)]
    await settle()
    assert order == []
    for _ in range(5):
        admission.leave()
        await settle()
    assert order == [0, 1, 2, 3, 4]
    await asyncio.gather(*tasks)


async def test_a_free_turn_is_taken_at_once_and_given_back() -> None:
    admission = await held()
    admission.leave()
    await asyncio.wait_for(enter(admission), 1)  # free again: no wait


async def test_a_waiter_times_out_at_its_limit_and_others_keep_their_place() -> None:
    loop = asyncio.get_running_loop()
    admission = await held()
    short = await taken(admission, loop.time() + 0.05)
    patient = await taken(admission, loop.time() + 30)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(short, 5)
    admission.leave()
    await asyncio.wait_for(patient, 1)  # the turn skipped the timed-out waiter


async def test_many_waiters_with_the_same_timeout_share_one_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1,000 searches waiting with the pool timeout set one timer, not one each."""
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    call_at = loop.call_at

    def counted(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timers.append(when)
        return call_at(when, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counted)
    admission = await held()
    start = loop.time()
    tasks = [
        asyncio.create_task(enter(admission, start + 30 + index / 1000)) for index in range(1000)
    ]
    await settle()
    assert len(timers) == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_earlier_limit_arriving_later_moves_the_timer() -> None:
    """A waiter with a nearer limit (a deadline) than those queued before it still times out
    on time."""
    loop = asyncio.get_running_loop()
    admission = await held()
    patient = await taken(admission, loop.time() + 30)
    hurried = await taken(admission, loop.time() + 0.05)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(hurried, 5)
    assert not patient.done()
    patient.cancel()


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    admission = await held()
    gone = await taken(admission)
    staying = await taken(admission)
    gone.cancel()
    await settle()
    admission.leave()
    await asyncio.wait_for(staying, 1)


async def test_a_turn_given_to_a_waiter_cancelled_before_it_ran_passes_on() -> None:
    """leave() hands the turn to a waiter whose task is cancelled in the same iteration: the
    turn goes to the next waiter, not lost."""
    admission = await held()
    first = await taken(admission)
    second = await taken(admission)
    admission.leave()  # the turn is first's...
    first.cancel()  # ...but first is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)


async def test_a_waiter_cancelled_after_timing_out_takes_no_turn_back() -> None:
    """A waiter whose time ran out, cancelled before it resumed, must not give back a turn it
    never had."""
    loop = asyncio.get_running_loop()
    admission = await held()
    late = asyncio.create_task(enter(admission, loop.time() - 1))  # its time is up as it queues
    # Poll, not wait on an event: an event's waiter would resume after late, too late to test.
    while not any(waiter.done() for waiter in admission._waiting):  # noqa: ASYNC110
        await asyncio.sleep(0)  # until the timer fails late's future; late resumes next iteration
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    third = await taken(admission)
    await asyncio.sleep(0.05)
    assert not third.done()  # still one turn, still held
    admission.leave()
    await asyncio.wait_for(third, 1)


async def test_a_turn_taken_back_past_the_limit_is_paid_off_before_anyone_waiting_runs() -> None:
    """reenter() takes a turn with none free; the next turn given back pays that off, so the
    limit holds again before a waiter runs."""
    admission = await held()
    admission.reenter()  # two run with a limit of one
    waiter = await taken(admission)
    admission.leave()
    await settle()
    assert not waiter.done()  # one still runs: the limit
    admission.leave()
    await asyncio.wait_for(waiter, 1)


async def test_a_search_gives_its_turn_back_once_nothing_of_it_runs_but_fetches_asleep() -> None:
    admission = await held()
    turn = Turn(admission)
    turn.start()
    turn.start()  # two page fetches running
    waiter = await taken(admission)
    turn.sleep()  # one waits to retry, the other still runs on the turn
    await settle()
    assert not waiter.done()
    turn.finish()  # the other's page was read: only a sleeper is left
    await asyncio.wait_for(waiter, 1)
    assert not turn.held
    turn.wake()  # the sleeper wakes: it runs at once, past the limit
    assert turn.held
    late = await taken(admission)
    admission.leave()  # the waiter's search ends: that pays the excess off
    await settle()
    assert not late.done()
    turn.finish()
    turn.end()  # the search ends
    assert not turn.held
    await asyncio.wait_for(late, 1)
    turn.end()  # ending twice gives nothing more back
    last = await taken(admission)
    await settle()
    assert not last.done()
    admission.leave()
    await asyncio.wait_for(last, 1)


async def test_a_search_between_pages_keeps_its_turn() -> None:
    """A fetch that ends with none asleep gives nothing back: the search goes on to its next
    page; a fetch that starts while the turn is given back takes one at once."""
    admission = await held()
    turn = Turn(admission)
    turn.start()
    turn.finish()
    waiter = await taken(admission)
    await settle()
    assert not waiter.done()
    turn.start()
    turn.sleep()  # given back
    await asyncio.wait_for(waiter, 1)
    turn.start()  # the pager starts another page meanwhile: taken back at once
    assert turn.held
    turn.finish()
    turn.wake()
    turn.finish()
    turn.end()
    admission.leave()  # the waiter's search ends
    assert admission._free == 1  # every turn back, none twice


async def test_time_limits_end_in_their_own_order_not_in_arrival_order() -> None:
    """Margins of 0.4 s and more: a slow machine's late loop cannot reorder them."""
    loop = asyncio.get_running_loop()
    admission = await held()
    now = loop.time()
    late, early, middle = [await taken(admission, now + delay) for delay in (5.0, 0.05, 0.5)]
    await asyncio.wait([early], timeout=2)
    assert early.done()
    assert isinstance(early.exception(), TimeoutError)
    assert not middle.done()  # due 0.45 s after early
    await asyncio.wait([middle], timeout=3)
    assert middle.done()
    assert isinstance(middle.exception(), TimeoutError)
    assert not late.done()  # due 4.5 s after middle
    admission.leave()
    await asyncio.wait_for(late, 1)  # the one still waiting gets the turn
