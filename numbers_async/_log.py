"""The library's log, written by a hook: silent unless the application configures logging
(a NullHandler) or sets ``NUMBERS_LOG=debug|info|warning`` (a stderr handler, as OPENAI_LOG).

WARNING: each retry; INFO: each search's outcome; DEBUG: each HTTP attempt. No record holds
the API key: URLs never carry it and request headers are never logged.
"""

from __future__ import annotations

import logging
import os

from .hooks import AttemptInfo, Hooks, RetryInfo, SearchInfo

logger = logging.getLogger("numbers_async")
logger.addHandler(logging.NullHandler())

ENV_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def configure_from_env(value: str | None) -> logging.Handler | None:
    """With ``NUMBERS_LOG`` set to a known level, log from that level on to stderr; returns the
    handler added (None for an unset or unknown value, which changes nothing)."""
    level = ENV_LEVELS.get((value or "").strip().lower())
    if level is None:
        return None
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


# The handler NUMBERS_LOG added, if any: the command line escapes what it writes.
ENV_HANDLER = configure_from_env(os.environ.get("NUMBERS_LOG"))


class LogHooks(Hooks):
    """Writes the ``numbers_async`` log from the hook events."""

    __slots__ = ()

    def request_sent(self, attempt: AttemptInfo) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "numbers-async: %s %s (attempt %d)", attempt.method, attempt.url, attempt.number
            )

    def attempt_ended(self, attempt: AttemptInfo) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            failed = attempt.error is not None or attempt.cancelled
            outcome = describe(attempt) if failed else attempt.status_code
            logger.debug(
                "numbers-async: %s %s: %s in %.3f s",
                attempt.method,
                attempt.url,
                outcome,
                attempt.elapsed,
            )

    def retry_scheduled(self, retry: RetryInfo) -> None:
        tracking_id = getattr(retry.error, "tracking_id", None)
        logger.warning(
            "numbers-async: %s on attempt %d of %d%s; retrying in %.3f s",
            describe(retry.attempt),
            retry.attempt.number,
            retry.max_retries + 1,
            f" (trackingId={escaped(tracking_id)})" if tracking_id else "",
            retry.delay,
        )

    def search_finished(self, search: SearchInfo) -> None:
        if logger.isEnabledFor(logging.INFO):
            outcome = search.stop_reason if search.error is None else type(search.error).__name__
            logger.info(
                "numbers-async: search %s%s: %d of %d numbers, %d pages, %d requests "
                "(%d attempts): %s",
                search.country_code,
                "".join(f" {name}={value}" for name, value in search.filters.items()),
                search.returned,
                search.limit,
                search.pages,
                search.requests,
                search.attempts,
                outcome,
            )


def escaped(text: str) -> str:
    """A server's text in a log line: a control character (or a lone surrogate) escaped as
    ``repr`` shows it (``\\x1b``), so a log written to a terminal never drives it."""
    return text if text.isprintable() else repr(text)[1:-1]


def describe(attempt: AttemptInfo) -> str:
    """A failed attempt in a few characters: its status, or the httpx error behind it."""
    if attempt.cancelled:
        return "cancelled"
    if attempt.status_code is not None:
        return str(attempt.status_code)
    error = attempt.error
    cause = error.__cause__ if error is not None else None
    return type(cause or error).__name__
