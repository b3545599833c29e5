"""Ctrl+C during a search: the first press stops it, which writes what was found and says so
(exit 130); a press within ``SAME_PRESS`` seconds of it is the same press; a later one quits
at once, should writing block (a paused pager).

asyncio.run's own handler raises KeyboardInterrupt on a second press wherever the code is: a
double tap lost every number found, or printed a traceback from asyncio's shutdown.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from ._args import INTERRUPTED

SAME_PRESS = 0.5  # seconds: a key bounce or an impatient double tap

# The handler a press replaced with SIG_IGN, to give back if the process runs another command.
_replaced: list[Callable[[int, FrameType | None], Any] | int | None] = []


@contextmanager
def ctrl_c_cancels(task: asyncio.Task[object]) -> Iterator[None]:
    """Within: SIGINT cancels ``task`` once, as above; after a press, it is ignored once out,
    until ``listen_again`` (in the main thread only, where Python takes signals; elsewhere
    nothing changes). The caller sees CancelledError."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = task.get_loop()
    first: list[float] = []

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if not first:
            first.append(time.monotonic())
            loop.call_soon_threadsafe(task.cancel)
        elif time.monotonic() - first[0] > SAME_PRESS:
            os._exit(INTERRUPTED)  # a press to quit now: nothing more may block it

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        # Once pressed, presses are ignored while the process ends: the interpreter's shutdown
        # restores the default handler, and one landing then ended it by SIGINT (status -2).
        signal.signal(signal.SIGINT, signal.SIG_IGN if first else previous)
        if first:
            _replaced[:] = [previous]


def listen_again() -> None:
    """Give Ctrl+C back its handler from before an interrupted search, for a process running
    another command in it (``main()`` called again)."""
    if _replaced and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _replaced.pop())
