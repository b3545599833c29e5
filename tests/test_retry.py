"""Retry decisions, tested as pure functions: backoff delays and Retry-After parsing."""

from datetime import UTC, datetime

import pytest

from numbers_async._retry import RetryPolicy, backoff_delay, parse_retry_after

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retry", "fraction", "expected"),
    [
        (0, 1.0, 0.5),
        (1, 1.0, 1.0),
        (2, 1.0, 2.0),
        (3, 1.0, 4.0),
        (4, 1.0, 8.0),
        (5, 1.0, 8.0),  # capped at the maximum
        (30, 1.0, 8.0),
        (2, 0.5, 1.0),  # full jitter: a fraction of the cap
        (2, 0.0, 0.0),
    ],
)
def test_backoff_is_full_jitter_of_capped_exponential(
    retry: int, fraction: float, expected: float
) -> None:
    """delay = fraction * min(max, initial * 2**retry) with initial 0.5 and max 8."""
    assert backoff_delay(retry, 0.5, 8.0, fraction) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("3", 3.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("-5", 0.0),  # clamped up to 0
        ("3600", 60.0),  # clamped down to 60
        ("inf", 60.0),
        ("nan", None),
        ("Thu, 26 Nov 2026 12:00:10 GMT", 10.0),
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),  # in the past
        ("Fri, 27 Nov 2026 12:00:00 GMT", 60.0),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    """Seconds or HTTP date, clamped to [0, 60]; anything unreadable is ignored."""
    assert parse_retry_after(header, NOW) == expected


def test_policy_prefers_retry_after_over_backoff() -> None:
    """A readable Retry-After replaces the computed backoff."""
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0, random=lambda: 1.0)
    assert policy.delay(0, "4") == 4.0
    assert policy.delay(2, None) == 2.0
    assert policy.delay(2, "garbage") == 2.0
