"""Admission in slices: thousands of searches started at once must not stall the event loop.

``asyncio.gather`` of 5,000 searches runs the first step of all 5,000 in one loop iteration:
each builds its request and hands it to the engine (aiohttp builds its whole request first), so
timers and I/O of the rest of the service waited 1.5-3.6 s (measured against a 100 ms server).
The gate lets at most ``per_turn`` page fetches start per iteration, in arrival order; the rest
wait on a future (a few µs each) and start in later iterations, between other callbacks.
``search()`` passes it before anything else too: its setup (validation, the pager: about 0.1 ms)
run by 5,000 searches in one iteration stalled the loop 0.35-0.5 s more (benchmarks W6).

The slice adapts to the loop: an iteration longer than ``TURN_TARGET`` halves it, a shorter one
grows it by one, up to ``PER_TURN``. Once the process is CPU-bound, about as many searches finish
per iteration as start in it, so the slice sets how long iterations last. 5,000 searches at once
against a 100 ms server (W6), fixed 32 -> adaptive: loop stalls over 100 ms per run on httpx2
73-78 -> 10-38, aiohttp 9-17 -> 3, httpx 7-9 -> 4-5, no slower (what remains is mostly the
garbage collector's full passes). A fixed slice of 8 did as well on httpx2 but cost httpx 12 %
of its searches/s with 64 in flight (W2), where iterations are short and a big slice batches
the I/O; a 5 ms target cost it 9 %, 10 ms nothing measurable (instrumented W6 and W2 runs on
the 2-core VM; BENCHMARKS.md has make bench's figures).
"""

from __future__ import annotations

import asyncio
from collections import deque

PER_TURN = 32  # most fetches started per loop iteration: ~32 x 0.2 ms of setup, far below 100 ms
TURN_TARGET = 0.01  # seconds: a loop iteration longer than this halves the next slice


class EntryGate:
    """Lets at most ``per_turn`` callers through ``ask()`` per event-loop iteration, fewer
    (down to one) while iterations last longer than ``target`` seconds."""

    __slots__ = (
        "_entered",
        "_most",
        "_per_turn",
        "_target",
        "_turn_at",
        "_turn_scheduled",
        "_waiting",
    )

    def __init__(self, per_turn: int = PER_TURN, target: float = TURN_TARGET) -> None:
        self._most = per_turn
        self._per_turn = per_turn
        self._target = target
        self._entered = 0  # callers let through in the current iteration
        self._turn_scheduled = False
        self._turn_at: float | None = None  # loop time of the last turn, while turns follow
        self._waiting: deque[asyncio.Future[None]] = deque()

    def ask(self) -> asyncio.Future[None] | None:
        """None if this iteration has room and nobody waits, else a future done in a later
        iteration: await it (a caller cancelled meanwhile leaves a cancelled future, skipped).
        Not a coroutine, so a waiting caller holds no frame of ours."""
        loop = asyncio.get_running_loop()
        if not self._turn_scheduled:
            self._turn_scheduled = True
            loop.call_soon(self._next_turn, loop)
        if self._entered < self._per_turn and not self._waiting:
            self._entered += 1
            return None
        waiter = loop.create_future()
        self._waiting.append(waiter)
        return waiter

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """A new iteration: size the slice by how long the last one took, and let the next
        waiters through."""
        now = loop.time()
        if self._turn_at is not None:
            self._per_turn = next_slice(
                self._per_turn, now - self._turn_at, self._most, self._target
            )
        self._entered = 0
        waiting = self._waiting
        while waiting and self._entered < self._per_turn:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._entered += 1
        if waiting:
            self._turn_at = now
            loop.call_soon(self._next_turn, loop)
        else:
            self._turn_at = None
            self._turn_scheduled = False


def next_slice(current: int, iteration: float, most: int, target: float) -> int:
    """The next slice: halved after an iteration longer than ``target`` seconds, else one more,
    between 1 and ``most``."""
    if iteration > target:
        return max(1, current // 2)
    return min(most, current + 1)
