"""A one-line progress bar on a terminal's stderr, redrawn in place while pages arrive."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 30
REDRAW_EVERY = 0.1  # seconds: fast enough to look live, rare enough to cost nothing


class ProgressBar:
    """Shows ``found/total`` as a bar; ``clear()`` erases it so the terminal stays clean."""

    __slots__ = ("_clock", "_drawn_at", "_stream", "_total")

    def __init__(
        self, total: int, stream: TextIO, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._total = total
        self._stream = stream
        self._clock = clock
        self._drawn_at: float | None = None

    def update(self, found: int) -> None:
        """Redraw for ``found`` numbers, unless it was redrawn a moment ago."""
        now = self._clock()
        if self._drawn_at is not None and now - self._drawn_at < REDRAW_EVERY:
            return
        self._drawn_at = now
        self._stream.write("\r" + render(found, self._total))
        self._stream.flush()

    def clear(self) -> None:
        """Erase the bar, if one was drawn."""
        if self._drawn_at is not None:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn_at = None


def render(found: int, total: int) -> str:
    """The bar's text for ``found`` of ``total`` numbers."""
    filled = min(WIDTH, WIDTH * found // total)
    return f"[{'#' * filled}{'-' * (WIDTH - filled)}] {found}/{total} numbers"
