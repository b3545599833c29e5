"""Which tasks had their wait for a free pooled connection cut off in their current attempt.

Neither what the engines raise nor a deadline's cancellation says whether the request was
waiting for a connection or already sent: aiohttp reports a cut-off wait as a connect that
timed out, and a deadline passing in the queue looked like an attempt sent (counted, billed).
The queues (ours in front of httpcore's pools, aiohttp's connector) note it here.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

_CUT_OFF: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


def note_cut_off() -> None:
    """The current task's wait for a connection ended without one (timed out, cancelled)."""
    task = asyncio.current_task()
    if task is not None:
        _CUT_OFF.add(task)


def was_cut_off(task: asyncio.Task[Any] | None) -> bool:
    """Whether ``task``'s wait for a connection in its current attempt was cut off."""
    return task is not None and task in _CUT_OFF


def attempt_starts(task: asyncio.Task[Any] | None) -> None:
    """``task`` starts an attempt: no wait of it was cut off yet."""
    if _CUT_OFF and task is not None:  # empty but under overload: no weak reference made
        _CUT_OFF.discard(task)
