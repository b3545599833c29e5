"""Admission in slices: thousands of searches started at once must not stall the event loop.

``asyncio.gather`` of 5,000 searches runs the first step of all 5,000 in one loop iteration:
each builds its request and hands it to the engine (aiohttp builds its whole request first), so
timers and I/O of the rest of the service waited 1.5-3.6 s (measured against a 100 ms server).
The gate lets at most ``per_turn`` page fetches start per iteration, in arrival order; the rest
wait on a future (a few µs each) and start in later iterations, between other callbacks.
``search()`` passes it before anything else too: its setup (validation, the pager: about 0.1 ms)
run by 5,000 searches in one iteration stalled the loop 0.35-0.5 s more (benchmarks W6).
"""

from __future__ import annotations

import asyncio
from collections import deque

PER_TURN = 32  # fetches started per loop iteration: ~32 x 0.2 ms of setup, far below 100 ms


class EntryGate:
    """Lets at most ``per_turn`` callers through ``enter()`` per event-loop iteration."""

    __slots__ = ("_entered", "_per_turn", "_turn_scheduled", "_waiting")

    def __init__(self, per_turn: int = PER_TURN) -> None:
        self._per_turn = per_turn
        self._entered = 0  # callers let through in the current iteration
        self._turn_scheduled = False
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        """Return at once if this iteration has room and nobody waits, else in a later one."""
        loop = asyncio.get_running_loop()
        if not self._turn_scheduled:
            self._turn_scheduled = True
            loop.call_soon(self._next_turn, loop)
        if self._entered < self._per_turn and not self._waiting:
            self._entered += 1
            return
        waiter = loop.create_future()
        self._waiting.append(waiter)
        await waiter  # a caller cancelled here leaves a cancelled future, skipped later

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """A new iteration: let the next ``per_turn`` waiters through."""
        self._entered = 0
        waiting = self._waiting
        while waiting and self._entered < self._per_turn:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._entered += 1
        if waiting:
            loop.call_soon(self._next_turn, loop)
        else:
            self._turn_scheduled = False
