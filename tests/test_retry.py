"""Retry decisions, tested as pure functions: backoff, Retry-After parsing, the decision."""

from datetime import UTC, datetime

import pytest

from numbers_async import (
    APIConnectionError,
    CertificateVerificationError,
    InvalidRequestError,
    NumbersError,
    ProxyError,
)
from numbers_async._retry import (
    BACKOFF,
    BUDGET_EXHAUSTED,
    NOT_RETRYABLE,
    PAST_DEADLINE,
    RETRIES_EXHAUSTED,
    RETRY_AFTER,
    RETRY_AFTER_TOO_LONG,
    Decision,
    RetryPolicy,
    backoff_delay,
    decide,
    is_retryable,
)
from numbers_async._retry_after import parse_retry_after

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
        (5000, 1.0, 8.0),  # no OverflowError for a huge max_retries
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
        (" 7\t", 7.0),  # optional whitespace around a field value
        ("0", 0.0),
        ("3600", 3600.0),  # not clamped: the decision compares it with retry_after_max
        ("007", 7.0),
        ("99999999999999999999999", 1e23),
        ("9" * 400, float("inf")),  # longer than a float: an endless wait, never retried
        ("9" * 5000, float("inf")),  # longer than int() reads
        ("-5", None),  # delta-seconds is 1*DIGIT: no sign ...
        ("+5", None),
        ("1.5", None),  # ... no fraction ...
        ("1_0", None),  # ... no underscore (float() reads it as 10) ...
        ("1e3", None),
        ("inf", None),  # ... no infinity or NaN
        ("nan", None),
        ("٣", None),  # an Arabic-Indic digit: int() would read 3
        ("3 s", None),
        ("Thu, 26 Nov 2026 12:00:10 GMT", 10.0),  # IMF-fixdate
        ("Thursday, 26-Nov-26 12:00:10 GMT", 10.0),  # obsolete RFC 850
        ("Thu Nov 26 12:00:10 2026", 10.0),  # asctime
        ("Thu Nov  6 12:00:10 2026", 0.0),  # asctime pads the day with a space; in the past
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),  # in the past: no wait asked
        ("Fri, 27 Nov 2026 12:00:00 GMT", 86400.0),
        ("Thu, 26 Nov 2026 12:00:10 +0000", None),  # only GMT
        ("26 Nov 2026 12:00:10 GMT", None),  # no day name
        ("Thu, 31 Feb 2026 12:00:10 GMT", None),  # no such day
        ("Thu, 26 Nov 2026 25:00:10 GMT", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_retry_after_follows_rfc_9110(header: str | None, expected: float | None) -> None:
    """Delta-seconds digits or one of the three HTTP-date formats; anything else is ignored."""
    assert parse_retry_after(header, NOW) == expected


def test_rfc850_two_digit_year_never_lands_more_than_50_years_ahead() -> None:
    """RFC 9110: a two-digit year that would be over 50 years in the future is in the past."""
    assert parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", NOW) == 0.0


POLICY = RetryPolicy(max_retries=3, initial_delay=1.0, max_delay=8.0, retry_after_max=60.0)


@pytest.mark.parametrize(
    ("attempt", "retryable", "retry_after", "time_left", "budget_left", "expected"),
    [
        # retryable, within every bound: the jittered backoff (fraction 0.5 below)
        (1, True, None, None, True, Decision(True, 0.5, BACKOFF)),
        (2, True, None, None, True, Decision(True, 1.0, BACKOFF)),
        (3, True, None, None, True, Decision(True, 2.0, BACKOFF)),
        # the attempt after the last retry
        (4, True, None, None, True, Decision(False, 0.0, RETRIES_EXHAUSTED)),
        # never retried, whatever the rest says
        (1, False, None, None, True, Decision(False, 0.0, NOT_RETRYABLE)),
        (1, False, 1.0, 100.0, True, Decision(False, 0.0, NOT_RETRYABLE)),
        # Retry-After: waited when longer than the backoff, never shorter than it
        (1, True, 3.0, None, True, Decision(True, 3.0, RETRY_AFTER)),
        (2, True, 0.0, None, True, Decision(True, 1.0, BACKOFF)),
        (1, True, 60.0, None, True, Decision(True, 60.0, RETRY_AFTER)),
        (1, True, 61.0, None, True, Decision(False, 0.0, RETRY_AFTER_TOO_LONG)),
        (1, True, 3600.0, 10_000.0, True, Decision(False, 0.0, RETRY_AFTER_TOO_LONG)),
        # the deadline: a wait ending at or past it is refused
        (1, True, None, 0.6, True, Decision(True, 0.5, BACKOFF)),
        (1, True, None, 0.5, True, Decision(False, 0.5, PAST_DEADLINE)),
        (1, True, 3.0, 2.0, True, Decision(False, 3.0, PAST_DEADLINE)),
        (1, True, None, -1.0, True, Decision(False, 0.5, PAST_DEADLINE)),
        # the budget is asked last: an empty one stops an otherwise allowed retry
        (1, True, None, None, False, Decision(False, 0.5, BUDGET_EXHAUSTED)),
        (4, True, None, None, False, Decision(False, 0.0, RETRIES_EXHAUSTED)),
        (1, True, None, 0.1, False, Decision(False, 0.5, PAST_DEADLINE)),
    ],
)
def test_decide(
    attempt: int,
    retryable: bool,
    retry_after: float | None,
    time_left: float | None,
    budget_left: bool,
    expected: Decision,
) -> None:
    """Retry or not, how long, why: one pure function of the attempt and its bounds."""
    decision = decide(
        POLICY,
        attempt=attempt,
        retryable=retryable,
        retry_after=retry_after,
        fraction=0.5,
        time_left=time_left,
        budget_left=budget_left,
    )
    assert decision == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_retries", -3),
        ("max_retries", 1.5),
        ("max_retries", True),
        ("max_retries", "2"),
        ("initial_delay", float("nan")),
        ("initial_delay", -0.1),
        ("max_delay", float("inf")),
        ("max_delay", None),
        ("retry_after_max", -1),
        ("retry_after_max", float("nan")),
    ],
)
def test_policy_refuses_invalid_fields(field: str, value: object) -> None:
    """An invalid RetryPolicy cannot exist: InvalidRequestError names the field."""
    with pytest.raises(InvalidRequestError) as caught:
        RetryPolicy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.argument == field


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (APIConnectionError("ConnectError after 1 attempt(s): refused", attempts=1), True),
        (
            CertificateVerificationError("ConnectError: CERTIFICATE_VERIFY_FAILED", attempts=1),
            False,
        ),
        *(
            (ProxyError(f"ProxyError: {status}", attempts=1, proxy_status=status), retryable)
            for status, retryable in [
                (407, False),  # its credentials: retrying only repeats them
                (403, False),
                (400, False),
                (302, False),  # a captive portal's
                (408, True),
                (429, True),
                (502, True),  # it could not reach the API, for now
                (503, True),
                (None, True),  # no status said: as any connection failure
            ]
        ),
    ],
)
def test_is_retryable_for_failures_without_a_response(error: NumbersError, retryable: bool) -> None:
    """A connection failure is retried, but not a refused certificate nor a proxy's refusal
    of the tunnel with a status other than a 5xx, 408 or 429."""
    assert is_retryable(error) is retryable
