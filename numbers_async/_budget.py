"""The retry budget (Finagle's RetryBudget): retries may not exceed a share of recent first
attempts plus a small floor, so a provider that is down gets little more than its normal load
instead of ``1 + max_retries`` times it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import attrs

from . import _validation as check
from .errors import InvalidRequestError

_SLOTS = 10  # the window is counted in this many slices, each forgotten as a whole


def _non_negative(budget: object, field: attrs.Attribute[Any], value: object) -> None:
    check.non_negative(field.name, value)


SHORTEST_WINDOW = 0.001  # seconds: a shorter one would count nothing (and overflow the clock)


def _window(budget: object, field: attrs.Attribute[Any], value: object) -> None:
    if check.non_negative(field.name, value) < SHORTEST_WINDOW:
        raise InvalidRequestError(
            field.name,
            f"{field.name} must be at least {SHORTEST_WINDOW} seconds, got {check.shown(value)}",
        )


@attrs.frozen
class RetryBudget:
    """Over any ``window`` seconds, a client (with the clients ``with_options`` derives from it)
    retries at most ``ratio`` times its first attempts plus ``min_per_second * window``. Counts
    are kept in tenths of the window, each forgotten as a whole (as Finagle's): a retry or first
    attempt leaves the account 0.9 to 1.0 ``window`` after it, so 0.9 window may see up to twice
    the floor. ``window`` is at least a millisecond.

    The defaults were measured (README, "Running in a service"): a flapping provider (20 %
    502s, 5 % dropped connections, 2 % stalls) still sees 100 % of searches succeed, while a
    provider down for 1,000 concurrent searches gets 1.56 requests per search (3.0 without).
    """

    ratio: float = attrs.field(default=0.5, validator=_non_negative)
    min_per_second: float = attrs.field(default=2.0, validator=_non_negative)
    window: float = attrs.field(default=30.0, validator=_window)


class RetryLedger:
    """The running account of one budget: first attempts deposit ``ratio`` tokens, a retry
    takes one; counts older than the window are forgotten, a slice at a time."""

    __slots__ = ("_clock", "_deposits", "_retries", "_slice", "_slices", "budget")

    def __init__(self, budget: RetryBudget, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self._clock = clock
        self._slices = [[0, 0] for _ in range(_SLOTS)]  # [deposits, retries] per slice
        self._slice = self._now()
        self._deposits = 0  # sums over the window
        self._retries = 0

    def _now(self) -> int:
        return math.floor(self._clock() * _SLOTS / self.budget.window)

    def _advance(self) -> list[int]:
        """The current slice's counts, after forgetting the slices that left the window."""
        now = self._now()
        if now != self._slice:
            for index in range(self._slice + 1, min(now, self._slice + _SLOTS) + 1):
                old = self._slices[index % _SLOTS]
                self._deposits -= old[0]
                self._retries -= old[1]
                old[0] = old[1] = 0
            self._slice = now
        return self._slices[now % _SLOTS]

    def deposit(self) -> None:
        """A first attempt was sent."""
        self._advance()[0] += 1
        self._deposits += 1

    def can_retry(self) -> bool:
        """Whether one more retry fits in the budget now."""
        self._advance()
        budget = self.budget
        allowed = budget.ratio * self._deposits + budget.min_per_second * budget.window
        return self._retries + 1 <= allowed

    def withdraw(self) -> None:
        """A retry was decided."""
        self._advance()[1] += 1
        self._retries += 1
