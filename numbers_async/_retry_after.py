"""The ``Retry-After`` header, parsed strictly as RFC 9110 (section 10.2.3) defines it.

Its value is either delta-seconds (ASCII digits only: no sign, fraction, ``_`` or ``inf``,
which Python's ``float()`` would accept) or an HTTP-date in one of the three formats a
recipient must accept (IMF-fixdate, obsolete RFC 850, asctime). Anything else is ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "|".join(_MONTHS)
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_DELTA_SECONDS = re.compile(r"[0-9]+")
_IMF_FIXDATE = re.compile(
    rf"{_DAY}, (?P<day>[0-9]{{2}}) (?P<month>{_MONTH}) (?P<year>[0-9]{{4}}) "
    rf"(?P<time>{_TIME}) GMT"
)
_RFC850 = re.compile(
    rf"{_LONG_DAY}, (?P<day>[0-9]{{2}})-(?P<month>{_MONTH})-(?P<year>[0-9]{{2}}) "
    rf"(?P<time>{_TIME}) GMT"
)
_ASCTIME = re.compile(
    rf"{_DAY} (?P<month>{_MONTH}) (?P<day>[ 0-9][0-9]) (?P<time>{_TIME}) "
    r"(?P<year>[0-9]{4})"
)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait, unclamped (a date in the past reads 0.0);
    None when absent or not a valid RFC 9110 value."""
    if value is None:
        return None
    value = value.strip(" \t")
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)  # ASCII digits: inf past 1e308 (int() of 4,300+ digits raises)
    when = _http_date(value, now)
    if when is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def _http_date(value: str, now: datetime) -> datetime | None:
    """The UTC instant an HTTP-date names, or None when ``value`` is not one."""
    match = _IMF_FIXDATE.fullmatch(value) or _ASCTIME.fullmatch(value)
    year = None
    if match is None:
        match = _RFC850.fullmatch(value)
        if match is None:
            return None
        # RFC 9110: a two-digit year more than 50 years in the future is in the past century.
        year = now.year // 100 * 100 + int(match["year"])
        if year > now.year + 50:
            year -= 100
    hour, minute, second = (int(part) for part in match["time"].split(":"))
    try:
        return datetime(
            int(match["year"]) if year is None else year,
            _MONTHS.index(match["month"]) + 1,
            int(match["day"]),
            hour,
            minute,
            second,
            tzinfo=UTC,
        )
    except ValueError:  # 31 Feb, 25:00:00, ...
        return None
