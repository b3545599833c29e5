"""Whether to retry and how long to wait: the policy, and the one pure decision the request
loop asks after every failed attempt."""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from . import _validation as check
from .errors import (
    APIConnectionError,
    APIStatusError,
    CertificateVerificationError,
    NumbersError,
    ProxyError,
)

# 502 is the API's provider error; 429, 503 and 504 come from gateways in front of it.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# Why a failure was not retried (Decision.reason when Decision.retry is False).
NOT_RETRYABLE = "not_retryable"
RETRIES_EXHAUSTED = "max_retries"
RETRY_AFTER_TOO_LONG = "retry_after_too_long"
PAST_DEADLINE = "deadline"
BUDGET_EXHAUSTED = "retry_budget"
# What set the wait (Decision.reason when Decision.retry is True).
BACKOFF = "backoff"
RETRY_AFTER = "retry_after"


def _non_negative(policy: object, field: attrs.Attribute[Any], value: object) -> None:
    check.non_negative(field.name, value)


def _count(policy: object, field: attrs.Attribute[Any], value: object) -> None:
    check.int_at_least(field.name, value, 0)


@attrs.frozen
class RetryPolicy:
    """How many extra attempts a page gets and how long to wait before each.

    Invalid values raise ``InvalidRequestError`` naming the field. ``sleep`` and ``random``
    are seams for tests (pass them, or ``attrs.evolve`` a policy, to record delays instead of
    waiting or to make jitter deterministic).
    """

    max_retries: int = attrs.field(default=2, validator=_count)
    initial_delay: float = attrs.field(default=0.5, validator=_non_negative)
    max_delay: float = attrs.field(default=8.0, validator=_non_negative)
    #: A ``Retry-After`` asking for longer is not waited for: the failure is raised at once.
    retry_after_max: float = attrs.field(default=60.0, validator=_non_negative)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio.sleep, eq=False, repr=False
    )
    random: Callable[[], float] = attrs.field(default=_random.random, eq=False, repr=False)


@attrs.frozen
class Decision:
    """The answer for one failed attempt: retry or not, after how many seconds, and why
    (one of the reason constants of this module)."""

    retry: bool
    delay: float
    reason: str


def decide(
    policy: RetryPolicy,
    *,
    attempt: int,
    retryable: bool,
    retry_after: float | None,
    fraction: float,
    time_left: float | None,
    budget_left: bool,
) -> Decision:
    """What to do after failed attempt number ``attempt`` (1 for the first).

    ``retry_after`` is the server's ``Retry-After`` in seconds (None when absent), ``fraction``
    the jitter draw in [0, 1), ``time_left`` the seconds until the deadline (None: no
    deadline), ``budget_left`` whether the retry budget allows one more retry. A Retry-After
    never shortens the jittered backoff (so ``Retry-After: 0`` cannot cause a burst of
    immediate retries); a wait that would end past the deadline is refused, not slept.
    """
    if not retryable:
        return Decision(False, 0.0, NOT_RETRYABLE)
    if attempt > policy.max_retries:
        return Decision(False, 0.0, RETRIES_EXHAUSTED)
    if retry_after is not None and retry_after > policy.retry_after_max:
        return Decision(False, 0.0, RETRY_AFTER_TOO_LONG)
    delay = backoff_delay(attempt - 1, policy.initial_delay, policy.max_delay, fraction)
    reason = BACKOFF
    if retry_after is not None and retry_after > delay:
        delay, reason = retry_after, RETRY_AFTER
    if time_left is not None and delay >= time_left:
        return Decision(False, delay, PAST_DEADLINE)
    if not budget_left:
        return Decision(False, delay, BUDGET_EXHAUSTED)
    return Decision(True, delay, reason)


def is_retryable(error: NumbersError) -> bool:
    """Whether a failed attempt may succeed if sent again: a gateway or provider status, or
    no usable response at all, unless the server's certificate was refused or a proxy refused
    the tunnel with a status other than a 5xx, 408 or 429 (retrying a 407 only repeats a
    credential a proxy may lock out; a 3xx is a portal's)."""
    if isinstance(error, APIStatusError):
        return error.status_code in RETRYABLE_STATUSES
    if isinstance(error, ProxyError) and error.proxy_status is not None:
        status = error.proxy_status
        return status >= 500 or status in (408, 429)
    return isinstance(error, APIConnectionError) and not isinstance(
        error, CertificateVerificationError
    )


def backoff_delay(retry: int, initial: float, maximum: float, fraction: float) -> float:
    """Full jitter: ``fraction`` (in [0, 1)) of ``min(maximum, initial * 2**retry)``."""
    return fraction * min(maximum, initial * 2.0 ** min(retry, 64))  # 2.0**1024 overflows


def explain(decision: Decision, policy: RetryPolicy, retry_after: float | None) -> str | None:
    """The note added to an error that was not retried although its kind is retryable."""
    if decision.reason == RETRIES_EXHAUSTED:
        return f"numbers-async: gave up after {policy.max_retries + 1} attempts (max_retries)"
    if decision.reason == RETRY_AFTER_TOO_LONG:
        return (
            f"numbers-async: not retried: Retry-After {retry_after:g} s is above "
            f"retry_after_max {policy.retry_after_max:g} s"
        )
    if decision.reason == PAST_DEADLINE:
        return f"numbers-async: not retried: waiting {decision.delay:.3f} s would pass the deadline"
    if decision.reason == BUDGET_EXHAUSTED:
        return "numbers-async: not retried: the retry budget is exhausted (too many recent retries)"
    return None
