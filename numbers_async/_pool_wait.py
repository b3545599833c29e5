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
_SENT: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()  # sent in this attempt already


def note_cut_off() -> None:
    """The current task's wait for a connection ended without one (timed out, cancelled)."""
    task = asyncio.current_task()
    if task is not None:
        _CUT_OFF.add(task)


def note_sent() -> None:
    """The current task's attempt went out (on a connection that then lost it): a wait for
    another connection cut off after that does not make the attempt one never sent."""
    task = asyncio.current_task()
    if task is not None:
        _SENT.add(task)


def was_cut_off(task: asyncio.Task[Any] | None) -> bool:
    """Whether ``task``'s current attempt, never sent, had its wait for a connection cut off."""
    return task is not None and task in _CUT_OFF and task not in _SENT


def attempt_starts(task: asyncio.Task[Any] | None) -> None:
    """``task`` starts an attempt: no wait of it was cut off yet, nothing of it sent."""
    if task is None:
        return
    if _CUT_OFF:  # empty but under overload or after a resend: no weak reference made
        _CUT_OFF.discard(task)
    if _SENT:
        _SENT.discard(task)
