"""OpenTelemetry tracing, as a hook (extra ``otel``: opentelemetry-api only).

Each search is a ``numbers.search`` span, each HTTP attempt a child client span named ``GET``
(OpenTelemetry's HTTP client conventions), and the attempt's trace context goes out in its
headers. Spans go to the tracer provider the application configured (none: the API's no-op).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, StatusCode

from ._version import __version__
from .hooks import AttemptInfo, Hooks, SearchInfo

if TYPE_CHECKING:
    from opentelemetry.trace import Span


class TracingHooks(Hooks):
    """Opens a span when a search or an attempt starts and ends it with its outcome."""

    def __init__(self) -> None:
        # A proxy until the application sets its provider, then the provider's tracer.
        self._tracer = trace.get_tracer("numbers_async", __version__)
        # Weak: a stream its caller abandons without closing leaves no span behind forever.
        self._spans: WeakKeyDictionary[SearchInfo | AttemptInfo, Span] = WeakKeyDictionary()

    def _silent(self) -> bool:
        """No tracer provider is set yet: every span would be a no-op, so none is started (a
        tenth of a search's CPU; the trace context the caller holds still goes out)."""
        return isinstance(self._tracer, trace.ProxyTracer) and isinstance(
            trace.get_tracer_provider(), trace.ProxyTracerProvider
        )

    def search_started(self, search: SearchInfo) -> None:
        if self._silent():
            return
        attributes: dict[str, str | int] = {
            "numbers.country_code": search.country_code,
            "numbers.limit": search.limit,
        }
        for name, value in search.filters.items():  # features, area_code ...
            attributes[f"numbers.{name}"] = value if isinstance(value, str | int) else str(value)
        self._spans[search] = self._tracer.start_span("numbers.search", attributes=attributes)

    def request_sent(self, attempt: AttemptInfo) -> None:
        if self._silent():
            if context.get_current():  # else nothing to send: no span, no baggage
                propagate.inject(attempt.extra_headers)
            return
        url = attempt.url
        attributes: dict[str, str | int] = {
            "http.request.method": attempt.method,
            "server.address": url.host,
            "server.port": url.port or (443 if url.scheme == "https" else 80),
            "url.full": str(url),  # base_url cannot hold credentials; the key is in a header
        }
        if attempt.number > 1:
            attributes["http.request.resend_count"] = attempt.number - 1
        parent = self._spans.get(attempt.search) if attempt.search is not None else None
        span = self._tracer.start_span(
            attempt.method,
            context=None if parent is None else trace.set_span_in_context(parent),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        self._spans[attempt] = span
        propagate.inject(attempt.extra_headers, context=trace.set_span_in_context(span))

    def attempt_ended(self, attempt: AttemptInfo) -> None:
        span = self._spans.pop(attempt, None) if self._spans else None
        if span is None:
            return
        status = attempt.status_code
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if attempt.error is not None:
            # The conventions: the status code when there was an error status, else the type.
            error_type = (
                str(status) if status is not None and status >= 400 else _type(attempt.error)
            )
            span.set_attribute("error.type", error_type)
            span.set_status(StatusCode.ERROR, str(attempt.error))
        elif attempt.cancelled:
            span.set_attribute("error.type", _type(asyncio.CancelledError()))
            span.set_status(StatusCode.ERROR, "cancelled")
        span.end()

    def search_finished(self, search: SearchInfo) -> None:
        span = self._spans.pop(search, None) if self._spans else None
        if span is None:
            return
        span.set_attributes(
            {
                "numbers.returned": search.returned,
                "numbers.pages": search.pages,
                "numbers.exhausted": search.exhausted,
            }
        )
        if search.error is not None:
            span.set_attribute("error.type", _type(search.error))
            span.set_status(StatusCode.ERROR, str(search.error))
        span.end()


def _type(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"
