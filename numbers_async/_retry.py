"""Retry decisions as pure functions, and the policy that carries them (sleep is injectable)."""

from __future__ import annotations

import asyncio
import email.utils
import random as _random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import attrs

# 502 is the API's provider error; 503 and 504 come from gateways in front of it.
RETRYABLE_STATUSES = frozenset({502, 503, 504})
RETRY_AFTER_MAX = 60.0


@attrs.frozen
class RetryPolicy:
    """How many extra attempts a page gets and how long to wait before each.

    ``sleep`` and ``random`` are seams for tests: swap them with ``attrs.evolve`` to record
    delays instead of waiting, or to make jitter deterministic.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = _random.random

    def delay(self, retry: int, retry_after: str | None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        parsed = parse_retry_after(retry_after, datetime.now(UTC))
        if parsed is not None:
            return parsed
        return backoff_delay(retry, self.initial_delay, self.max_delay, self.random())


def backoff_delay(retry: int, initial: float, maximum: float, fraction: float) -> float:
    """Full jitter: ``fraction`` (in [0, 1)) of ``min(maximum, initial * 2**retry)``."""
    return fraction * min(maximum, initial * 2.0**retry)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (seconds or HTTP date), clamped to [0, 60]."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)
