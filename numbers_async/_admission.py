"""Turns for searches: at most ``limit`` run at once, the rest wait in arrival order.

A waiting search holds one future, which carries its time limit and is itself the entry of one
heap served by one timer. With an ``asyncio.timeout`` per waiter instead, each of 5,000 waiting
searches also held a timer handle, a copy of the context, a bound method and the Timeout itself:
every full garbage collection walked those ~25,000 objects more, and setting and cancelling
5,000 timers cost about a tenth of the searches' CPU (benchmarks W6, 5,000 searches at once); a
(time, order, future) tuple per heap entry was 5,000 objects more.
"""

from __future__ import annotations

import asyncio
from collections import deque
from heapq import heapify, heappop, heappush


class _Waiter(asyncio.Future[None]):
    """A waiting search's future with its time limit (loop time), ordered by it in the heap."""

    __slots__ = ("expires_at",)

    def __init__(self, loop: asyncio.AbstractEventLoop, expires_at: float) -> None:
        super().__init__(loop=loop)
        self.expires_at = expires_at

    def __lt__(self, other: _Waiter) -> bool:
        return self.expires_at < other.expires_at


class Admission:
    """``ask()`` takes a turn or queues for one, in arrival order; ``leave()`` gives it back.

    ``ask`` is not a coroutine: the caller awaits the future it returns in its own frame, so a
    waiting search holds no coroutine of ours besides its own (W6: 5,000 waiting searches)."""

    __slots__ = ("_expiries", "_free", "_timer", "_waiting", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit  # while some turn is free, nobody waits (leave() serves them first)
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._expiries: list[_Waiter] = []  # a heap: the earliest time limit on top
        self._timer: asyncio.TimerHandle | None = None

    def ask(self, expires_at: float | None = None) -> asyncio.Future[None] | None:
        """None with a turn taken, else a future that gives one when done: await it, and on
        cancellation call ``abandon``. It fails with TimeoutError at loop time ``expires_at``."""
        if self._free > 0:
            self._free -= 1
            return None
        loop = asyncio.get_running_loop()
        if expires_at is None:
            waiter = loop.create_future()
        else:
            waiter = _Waiter(loop, expires_at)
            self._add_expiry(loop, waiter)
        self._waiting.append(waiter)
        return waiter

    def abandon(self, waiter: asyncio.Future[None]) -> None:
        """The caller of ``waiter`` was cancelled: a turn that came meanwhile passes on."""
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self.leave()

    def reenter(self) -> None:
        """Take a turn back at once, past the limit if none is free (``Turn``): the turns
        given back after that pay the excess off before anyone waiting gets one."""
        self._free -= 1

    def leave(self) -> None:
        """Give a turn back: to the longest waiting search still waiting, if any."""
        if self._free < 0:  # more run than the limit (reenter): one fewer now
            self._free += 1
            return
        waiting = self._waiting
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():  # not cancelled, not timed out
                waiter.set_result(None)
                return
        self._free += 1

    def _add_expiry(self, loop: asyncio.AbstractEventLoop, waiter: _Waiter) -> None:
        expiries = self._expiries
        if len(expiries) > 64 + 2 * len(self._waiting):  # mostly served waiters: drop them
            expiries[:] = [entry for entry in expiries if not entry.done()]
            heapify(expiries)
        heappush(expiries, waiter)
        if self._timer is None or self._timer.when() > waiter.expires_at:
            self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """Set the one timer for the earliest time limit of a search still waiting."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        expiries = self._expiries
        while expiries and expiries[0].done():
            heappop(expiries)
        if expiries:
            self._timer = loop.call_at(expiries[0].expires_at, self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail every waiter whose time limit has passed."""
        self._timer = None
        now = loop.time()
        expiries = self._expiries
        while expiries and expiries[0].expires_at <= now:
            waiter = heappop(expiries)
            if not waiter.done():
                waiter.set_exception(TimeoutError())
        self._arm(loop)


class Turn:
    """A running search's turn, given back while nothing of the search runs but page fetches
    asleep before a retry (a search waiting seconds to retry must not keep waiting searches
    from the pool's connections), and taken back without waiting, past the limit if need be,
    when one wakes or a new one starts: a retrying search is never failed for want of a turn,
    and the limit can stay at the pool's connections (``_request.RUNNING_PER_CONNECTION``)."""

    __slots__ = ("_admission", "_asleep", "_busy", "held")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.held = True  # given by Admission.ask
        self._busy = 0  # page fetches running
        self._asleep = 0  # page fetches waiting to retry

    def start(self) -> None:
        """A page fetch starts: it runs on the search's turn."""
        self._busy += 1
        self._take()

    def finish(self) -> None:
        """A page fetch ended (its page read, or failed for good)."""
        self._busy -= 1
        self._give_if_asleep()

    def sleep(self) -> None:
        """A page fetch waits to retry."""
        self._busy -= 1
        self._asleep += 1
        self._give_if_asleep()

    def wake(self) -> None:
        """A page fetch is done waiting (to retry, or cancelled)."""
        self._asleep -= 1
        self._busy += 1
        self._take()

    def end(self) -> None:
        """The search ended: its turn goes back, if it holds one."""
        if self.held:
            self.held = False
            self._admission.leave()

    def _take(self) -> None:
        if not self.held:
            self.held = True
            self._admission.reenter()

    def _give_if_asleep(self) -> None:
        if self.held and self._asleep and not self._busy:
            self.held = False
            self._admission.leave()
