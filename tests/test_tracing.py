"""OpenTelemetry: a span per search, a client span per attempt, the trace context on the wire;
nothing imported without the otel extra."""

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any, cast

import pytest
from helpers import API_KEY
from loopback import LoopbackServer, serve
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from numbers_async import NumbersClient, ProviderError, RetryPolicy
from numbers_async._otel import TracingHooks
from numbers_async._transports import Transport


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans of the tests' own tracer provider, installed as the global one."""
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    # The global provider can be set only once per process: the hook's tracer is taken from
    # this provider instead, as the proxy tracer would after the application set it.
    monkeypatch.setattr(trace, "get_tracer", provider.get_tracer)
    yield exported
    provider.shutdown()


def client_on(server: LoopbackServer, transport: str) -> NumbersClient:
    return NumbersClient(
        API_KEY,
        base_url=server.base_url,
        transport=cast(Transport, transport),
        retry_policy=RetryPolicy(initial_delay=0),
    )


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


async def test_search_and_attempt_spans_with_traceparent_on_the_wire(
    exporter: InMemorySpanExporter, transport: str
) -> None:
    """A search with one 502 retry: one numbers.search span, two GET client spans under it
    (the second with resend_count 1), each request carrying its own span's traceparent."""
    server = LoopbackServer(["502"])
    async with serve(server), client_on(server, transport) as client:
        numbers = await client.search("US", area_code="415", limit=5)
    spans = exporter.get_finished_spans()
    (search,) = by_name(spans, "numbers.search")
    first, second = sorted(by_name(spans, "GET"), key=lambda span: span.start_time or 0)
    assert dict(search.attributes or {}) == {
        "numbers.country_code": "US",
        "numbers.area_code": "415",
        "numbers.limit": 5,
        "numbers.returned": len(numbers),
        "numbers.pages": 1,
        "numbers.exhausted": False,
    }
    port = int(server.base_url.rsplit(":", 1)[1])
    for span, status in ((first, 502), (second, 200)):
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == search.context.span_id
        attributes = dict(span.attributes or {})
        assert attributes["http.request.method"] == "GET"
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["server.port"] == port
        assert attributes["http.response.status_code"] == status
        assert str(attributes["url.full"]).startswith(f"{server.base_url}/numbers/available?")
        assert API_KEY not in str(attributes)
    assert dict(first.attributes or {})["error.type"] == "502"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in dict(first.attributes or {})
    assert dict(second.attributes or {})["http.request.resend_count"] == 1
    assert "error.type" not in dict(second.attributes or {})
    sent = traceparents(server)
    expected = [
        f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{span.context.trace_flags:02x}"
        for span in (first, second)
    ]
    assert sent == expected


async def test_a_failed_search_span_records_the_error(
    exporter: InMemorySpanExporter, transport: str
) -> None:
    """When retries run out, every span says so: error.type on attempts and on the search."""
    server = LoopbackServer(default="502")
    async with serve(server), client_on(server, transport) as client:
        with pytest.raises(ProviderError):
            await client.search("US")
    spans = exporter.get_finished_spans()
    (search,) = by_name(spans, "numbers.search")
    assert len(by_name(spans, "GET")) == 3
    assert search.status.status_code is StatusCode.ERROR
    assert dict(search.attributes or {})["error.type"] == "numbers_async.errors.ProviderError"


async def test_a_connection_error_attempt_names_its_type(
    exporter: InMemorySpanExporter,
) -> None:
    """An attempt without a response has error.type = the exception's type, no status."""
    server = LoopbackServer(["drop"])
    async with serve(server), client_on(server, "httpx") as client:
        await client.search("US")
    failed = [
        span for span in by_name(exporter.get_finished_spans(), "GET") if span.status.is_ok is False
    ]
    (span,) = failed
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == "numbers_async.errors.APIConnectionError"
    assert "http.response.status_code" not in attributes


async def test_a_cancelled_attempt_still_ends_its_span(
    exporter: InMemorySpanExporter, transport: str
) -> None:
    """A caller's timeout cancels the attempt in flight: its GET span ends (it was never
    exported), as cancelled, under the search's, which records the cancellation."""
    server = LoopbackServer(["stall"])
    async with serve(server), client_on(server, transport) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await client.search("US")
    spans = exporter.get_finished_spans()
    (attempt,) = by_name(spans, "GET")
    (search,) = by_name(spans, "numbers.search")
    assert attempt.parent is not None
    assert attempt.parent.span_id == search.context.span_id
    assert attempt.status.status_code is StatusCode.ERROR
    assert dict(attempt.attributes or {})["error.type"] == "asyncio.exceptions.CancelledError"
    assert dict(search.attributes or {})["error.type"] == "asyncio.exceptions.CancelledError"


def traceparents(server: LoopbackServer) -> list[str]:
    """The traceparent header of each request ``server`` read."""
    return [
        line.split(b":", 1)[1].strip().decode()
        for head in server.heads
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"traceparent:")
    ]


def count_proxy_spans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the spans the API's proxy tracer is asked to start."""
    started: list[str] = []
    start_span = trace.ProxyTracer.start_span

    def counted(tracer: trace.ProxyTracer, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        started.append(name)
        return start_span(tracer, name, *args, **kwargs)

    monkeypatch.setattr(trace.ProxyTracer, "start_span", counted)
    return started


async def test_no_span_is_started_before_a_tracer_provider_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a provider every span is a no-op: none is started, and the caller's trace
    context still goes out with each request."""
    started = count_proxy_spans(monkeypatch)
    caller = trace.NonRecordingSpan(
        trace.SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=trace.TraceFlags(1))
    )
    server = LoopbackServer()
    async with serve(server), client_on(server, "httpx") as client:
        with trace.use_span(caller):
            await client.search("US", limit=5)
    assert started == []
    assert traceparents(server) == [f"00-{0x1234:032x}-{0x5678:016x}-01"]


async def test_spans_start_once_the_application_sets_a_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hook's proxy tracer is used as soon as a provider exists (set after the client)."""
    started = count_proxy_spans(monkeypatch)
    server = LoopbackServer()
    async with serve(server), client_on(server, "httpx") as client:
        monkeypatch.setattr(trace, "get_tracer_provider", TracerProvider)
        await client.search("US", limit=5)
    assert started == ["numbers.search", "GET"]


def test_the_client_traces_when_the_extra_is_installed() -> None:
    """With opentelemetry-api importable, every client gets the tracing hook."""
    client = NumbersClient(API_KEY, base_url="http://numbers.test")
    assert any(isinstance(hook, TracingHooks) for hook in client._requester.hooks.hooks)


WITHOUT_OTEL = textwrap.dedent(
    """
    import sys
    sys.modules["opentelemetry"] = None  # as if the otel extra were not installed
    import asyncio, httpx
    from numbers_async import NumbersClient

    async def main():
        http = httpx.AsyncClient(transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json={"numbers": []})))
        client = NumbersClient("k", base_url="http://numbers.test", http_client=http)
        await client.search("US")
        print(sorted(type(hook).__name__ for hook in client._requester.hooks.hooks))

    asyncio.run(main())
    print([name for name in sys.modules if name.startswith("opentelemetry.")])
    """
)


def test_nothing_is_imported_without_the_extra() -> None:
    """Without opentelemetry the client searches untraced and imports none of it."""
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_OTEL], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.splitlines() == ["['LogHooks']", "[]"]


def test_importing_the_package_does_not_import_opentelemetry() -> None:
    """Even with the extra installed, import numbers_async alone loads none of it."""
    code = "import sys, numbers_async; print(any('opentelemetry' in m for m in sys.modules))"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout == "False\n"
