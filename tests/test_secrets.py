"""The API key never leaks: not in logs at DEBUG, nor in the client's repr, any error, its
response or request, its traceback, nor in the command line's output, on any error path."""

import asyncio
import gc
import json
import logging
import pickle
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, cast
from urllib.parse import quote

import httpx
import httpx2
import pytest
from cli_support import COMMAND, clean_env
from helpers import API_KEY, ENGINES, SleepRecorder, engine_client, on_uvloop, options_client
from loopback import LoopbackServer, serve
from secret_support import engine_errors_held, renderings

from numbers_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    InternalServerError,
    InvalidRequestError,
    NumbersClient,
    NumbersError,
    PaymentRequiredError,
    ProviderError,
    RateLimitError,
    ResponseValidationError,
    RetryPolicy,
    UnexpectedStatusError,
)
from numbers_async._auth import Secret
from numbers_async._engine_logs import _FILTER, ENGINE_LOGGERS
from numbers_async._transports import Transport

SECRET = "sk_live_T0pS3cr3t_9f8e7d"
REFUSED = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
LOGGERS = (None, "numbers_async", "httpx", "httpcore", "aiohttp", "asyncio")
SUBPROCESS_TIMEOUT = 45  # seconds for all the command line runs together, within the test's 60
BROKEN_GZIP = {"error_headers": [("content-encoding", b"gzip")], "error_body": b"not gzip"}

Search = Callable[[NumbersClient], Awaitable[Any]]


def search_us(client: NumbersClient) -> Awaitable[Any]:
    return client.search("US", limit=5)


async def search_after_close(client: NumbersClient) -> Any:
    await client.aclose()
    return await client.search("US")


# (script, server options, search, expected outcome: an error class or None for success)
# An error body quoting the key back in every field, as a careless server might.
ECHOING: dict[str, Any] = {
    "error_body": json.dumps(
        {
            "trackingId": f"t-{SECRET}",
            "error": {
                "code": f"KEY_{SECRET}",
                "message": f"you sent Bearer {SECRET}",
                "fix": f"do not send {SECRET}",
                "provider": SECRET,
                "providerCode": SECRET,
            },
        }
    ).encode()
}


# The key echoed into a response head: its reason phrase (httpx's INFO line and httpcore's
# DEBUG trace quote it), a header line the parser refuses (quoted in its error).
ECHOED_REASON = {"raw": b"HTTP/1.1 502 Bearer %s\r\nContent-Length: 0\r\n\r\n" % SECRET.encode()}
ECHOED_BAD_LINE = {
    "raw": b"HTTP/1.1 502 Bad\r\nContent-Length: 0\r\nAuthorization Bearer %s\r\n\r\n"
    % SECRET.encode()
}

PATHS: dict[str, tuple[list[str], dict[str, Any], Search, type[Exception] | None]] = {
    "400": (["400"], {}, search_us, BadRequestError),
    "401": (["401"], {}, search_us, AuthenticationError),
    "402": (["402"], {}, search_us, PaymentRequiredError),
    "404": (["404"], {}, search_us, UnexpectedStatusError),
    "429-retried-out": (["429", "429"], {}, search_us, RateLimitError),
    "500": (["500"], {}, search_us, InternalServerError),
    "502-retried-out": (["502", "502"], {}, search_us, ProviderError),
    "echoed-400": (["400"], ECHOING, search_us, BadRequestError),
    "echoed-402": (["402"], ECHOING, search_us, PaymentRequiredError),
    "echoed-502": (["502", "502"], ECHOING, search_us, ProviderError),
    "echoed-in-reason": (["raw", "raw"], ECHOED_REASON, search_us, ProviderError),
    "echoed-in-refused-line": (["raw", "raw"], ECHOED_BAD_LINE, search_us, APIConnectionError),
    "503-then-ok": (["503"], {}, search_us, None),
    "504-retried-out": (["504", "504"], {}, search_us, UnexpectedStatusError),
    "520": (["520"], {}, search_us, UnexpectedStatusError),
    "undecodable-502": (["502", "502"], BROKEN_GZIP, search_us, ProviderError),
    "html-200": (["html"], {}, search_us, ResponseValidationError),
    "dropped": (["drop", "drop"], {}, search_us, APIConnectionError),
    "not-http": (["garbage", "garbage"], {}, search_us, APIConnectionError),
    "stalled": (["stall", "stall"], {}, search_us, APITimeoutError),
    "refused": ([], {}, search_us, APIConnectionError),
    "invalid-input": ([], {}, lambda client: client.search("USA"), InvalidRequestError),
    "closed": ([], {}, search_after_close, ClientClosedError),
}


def attempt_timeout(script: list[str]) -> float:
    """Seconds per attempt: short where the server stalls (the path under test), and far above
    a loaded machine's pauses elsewhere (a 0.2 s bound once timed out a 503-then-ok path)."""
    return 0.3 if "stall" in script else 5.0


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """All that was logged: formatted messages, and the raw arguments of each record."""
    return caplog.text + "".join(repr(record.args) for record in caplog.records)


@pytest.mark.parametrize("path", list(PATHS))
async def test_the_key_appears_in_no_log_repr_error_or_traceback(
    transport: str, path: str, logs: pytest.LogCaptureFixture
) -> None:
    """Every error path, DEBUG logging everywhere: the key is shown nowhere."""
    script, search, expected = PATHS[path][0], PATHS[path][2], PATHS[path][3]
    asyncio.get_running_loop().set_debug(True)  # asyncio's own DEBUG records (connections, ...)
    # The server options are not bound to a local: the echoing ones hold the key, and this
    # frame is in the traceback rendered with its locals.
    async with serve(LoopbackServer(script, **PATHS[path][1])) as server:
        url = REFUSED if path == "refused" else server.base_url
        client = NumbersClient(
            SECRET,
            base_url=url,
            transport=cast(Transport, transport),
            timeout=attempt_timeout(script),
            max_retries=1,
            retry_policy=RetryPolicy(sleep=SleepRecorder()),
        )
        async with client:
            try:
                result = await search(client)
            except Exception as exc:
                error: Exception | None = exc
            else:
                error, shown = None, [repr(result)]
        await asyncio.sleep(0)
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected, error
        shown = renderings(error)
    shown += [repr(client), str(client), repr(client.retry_policy), logged(logs)]
    # the layers below did log at DEBUG, and it was captured
    debug = {
        record.name.split(".")[0] for record in logs.records if record.levelno == logging.DEBUG
    }
    if server.requests and not on_uvloop():  # uvloop logs nothing of its own
        assert "asyncio" in debug
    if transport == "httpx" and (server.requests or path == "refused"):
        assert "httpcore" in debug
    assert [text for text in shown if SECRET in text] == []


@pytest.mark.parametrize("path", ["not-http", "dropped", "stalled", "refused"])
async def test_no_aiohttp_error_stays_alive_in_the_raised_error(path: str) -> None:
    """On the aiohttp transport, the raised error neither chains aiohttp's error (its repr
    shows the request headers) nor keeps it in a traceback frame's locals."""
    script = PATHS[path][0]
    async with serve(LoopbackServer(script)) as server:
        url = REFUSED if path == "refused" else server.base_url
        policy = RetryPolicy(max_retries=1, sleep=SleepRecorder())
        client = NumbersClient(
            SECRET,
            base_url=url,
            transport="aiohttp",
            timeout=attempt_timeout(script),
            retry_policy=policy,
        )
        async with client:
            with pytest.raises(APIConnectionError) as caught:
                await client.search("US", limit=5)
    assert engine_errors_held(caught.value) == []


@pytest.mark.parametrize("key", [SECRET + "\n", f"{SECRET} x", f"{SECRET}é"])
def test_a_malformed_key_is_refused_without_being_shown(
    key: str, logs: pytest.LogCaptureFixture
) -> None:
    """A key the client refuses at construction is not repeated in the error or its traceback."""
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(key, base_url=REFUSED)
    assert caught.value.argument == "api_key"
    assert [text for text in renderings(library_frames(caught.value)) if SECRET in text] == []


def library_frames(error: BaseException) -> BaseException:
    """``error`` with its traceback starting at the constructor: the frame of the test that
    called it holds the key itself, as a caller's frame does."""
    assert error.__traceback__ is not None
    return error.with_traceback(error.__traceback__.tb_next)


# A construction error after the key was read: every later check of the constructor.
CONSTRUCTION_ERRORS: dict[str, dict[str, Any]] = {
    "base_url": {"base_url": "ftp://numbers.test"},
    "timeout": {"timeout": -1},
    "max_retries": {"max_retries": -1},
    "page_concurrency": {"page_concurrency": 0},
    "min_new_share": {"min_new_share": 2},
    "http_client": {"http_client": object()},
    "transport": {"transport": "carrier-pigeon"},
}


@pytest.mark.parametrize("argument", list(CONSTRUCTION_ERRORS))
@pytest.mark.parametrize("how", ["argument", "NUMBERS_API_KEY"])
def test_a_construction_error_shows_the_key_in_no_frame(
    argument: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid key and a bad later argument: the key is in no frame's locals of the error's
    traceback (traceback's capture_locals, as rich and Sentry print them)."""
    options = {"base_url": REFUSED, **CONSTRUCTION_ERRORS[argument]}
    if how == "NUMBERS_API_KEY":
        monkeypatch.setenv("NUMBERS_API_KEY", SECRET)
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(SECRET if how == "argument" else None, **options)
    assert caught.value.argument == argument
    assert [text for text in renderings(library_frames(caught.value)) if SECRET in text] == []


def test_a_half_built_client_has_a_repr() -> None:
    """repr of a client whose constructor failed half-way (capture_locals shows ``self``)."""
    client = NumbersClient.__new__(NumbersClient)
    assert repr(client) == "<NumbersClient (not constructed)>"


BOTH_WAYS = ("--api-key", "NUMBERS_API_KEY")
CLI_PATHS: dict[str, tuple[list[str], list[str], tuple[str, ...]]] = {
    # server script, extra arguments, and how the key is given (one way where it cannot matter)
    "ok": ([], [], BOTH_WAYS),
    "401": (["401"], [], BOTH_WAYS),
    "invalid-input": ([], ["--area-code", "4l5"], BOTH_WAYS),
    "402": (["402"], [], ("--api-key",)),
    "502-retried-out": (["502"] * 3, [], ("NUMBERS_API_KEY",)),
    "echoed-400": (["400"], [], BOTH_WAYS),
    "html-200": (["html"], [], ("--api-key",)),
    "dropped": (["drop"] * 3, [], ("NUMBERS_API_KEY",)),
    "refused": ([], ["--base-url", REFUSED], ("--api-key",)),
}


async def test_the_command_line_never_prints_the_key() -> None:
    """numbers-async search on each error path, the key given both ways: never in its output."""
    runs: list[tuple[str, str, asyncio.subprocess.Process]] = []
    async with AsyncExitStack() as servers:
        for path, (script, extra, ways) in CLI_PATHS.items():
            for how in ways:
                options = ECHOING if path.startswith("echoed") else {}
                server = await servers.enter_async_context(serve(LoopbackServer(script, **options)))
                args = ["search", "US", "--limit", "5", "--base-url", server.base_url, *extra]
                env = clean_env()
                if how == "--api-key":
                    args += ["--api-key", SECRET]
                else:
                    env["NUMBERS_API_KEY"] = SECRET
                process = await asyncio.create_subprocess_exec(
                    *COMMAND,
                    *args,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                runs.append((path, how, process))
        try:
            async with asyncio.timeout(SUBPROCESS_TIMEOUT):
                outputs = await asyncio.gather(*(process.communicate() for _, _, process in runs))
        finally:  # a run that hangs is killed, not left behind
            for _, _, process in runs:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    statuses = {(path, how): process.returncode for path, how, process in runs}
    print(f"\ncli: {len(runs)} runs")
    expected_status = {"ok": 0, "invalid-input": 2, "echoed-400": 2}
    assert statuses == {run: expected_status.get(run[0], 1) for run in statuses}
    secret = SECRET.encode()
    leaks = [run[:2] for run, (out, err) in zip(runs, outputs, strict=True) if secret in out + err]
    assert leaks == []


@pytest.mark.parametrize("kind", ["httpx", "httpx2"])
async def test_extra_headers_through_a_callers_client_keep_the_key_out_of_frame_locals(
    kind: str,
) -> None:
    """A caller's client gets the key's header per request: merged with a search's
    extra_headers, it stays masked in the locals of a failing request's frames (a cookie the
    client cannot encode fails its building)."""
    module: Any = httpx2 if kind == "httpx2" else httpx
    http_client = module.AsyncClient(cookies={"lb": "café"})
    async with NumbersClient(SECRET, base_url=REFUSED, http_client=http_client) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.search("US", extra_headers={"X-Request-Id": "r-1"})
    await http_client.aclose()
    assert "cannot encode" in str(caught.value)
    assert [text for text in renderings(caught.value) if SECRET in text] == []


def test_the_key_holder_refuses_to_be_pickled() -> None:
    """Secret, the key's only holder between the argument and the headers, never pickles (an
    object holding one would carry the key into a pickle)."""
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(Secret(SECRET))
    assert SECRET not in repr(Secret(SECRET))


SLASHED = "sk/live+T0p/S3cr3t=="  # a key a JSON encoder may write as sk\/live, a URL as sk%2Flive


def echoing(echo: str) -> httpx.Response:
    """A response quoting SLASHED in its reason phrase, JSON-escaped with \\/ (PHP's
    json_encode) or URL-encoded. Built here, not in the test: a test frame's locals are in the
    traceback rendered."""
    if echo == "reason":
        return httpx.Response(401, extensions={"reason_phrase": f"Bad {SLASHED}".encode()})
    if echo == "escaped":
        body = json.dumps({"error": {"message": f"bad key {SLASHED}"}}).replace("/", "\\/")
        return httpx.Response(400, content=body.encode())
    fix = f"see https://x.test/?key={quote(SLASHED, safe='')}"
    return httpx.Response(402, json={"error": {"fix": fix}})


@pytest.mark.parametrize("echo", ["reason", "escaped", "url-encoded"])
async def test_a_key_echoed_escaped_or_in_the_reason_phrase_is_masked(echo: str) -> None:
    """A server quoting the key in its reason phrase (the headline when the body has no
    message), JSON-escaped or URL-encoded: the error shows it in none of those forms."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: echoing(echo)))
    async with NumbersClient(SLASHED, base_url="http://api.test", http_client=http) as client:
        with pytest.raises(NumbersError) as caught:
            await client.search("US")
    await http.aclose()
    shown = "".join(renderings(caught.value))
    assert "[secure]" in shown
    for form in (SLASHED, "sk\\/live", "sk%2Flive"):
        assert form not in shown


def echo_into_head(where: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    """A server quoting the request's Authorization line (its colon dropped) where an engine
    refuses it and quotes it in its error: a header line, or a chunk's size line."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        line = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"author"))
        if where == "header-line":
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n" + line.replace(b":", b"")
            )
            writer.write(b"\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + line + b"\r\n")
        await writer.drain()
        writer.close()

    return answer


@pytest.mark.parametrize("where", ["header-line", "chunk-size-line"])
async def test_a_key_echoed_into_a_head_the_engine_refuses_is_masked(
    transport: str, where: str
) -> None:
    """An engine quotes the line it refused in its error: the APIConnectionError, its message,
    cause, traceback and pickle show ``[secure]`` where the server echoed the key."""
    server = await asyncio.start_server(echo_into_head(where), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        client = NumbersClient(
            SECRET, base_url=url, transport=cast(Transport, transport), max_retries=0
        )
        async with client:
            with pytest.raises(APIConnectionError) as caught:
                await client.search("US", limit=5)
    finally:
        server.close()
    assert "[secure]" in str(caught.value)
    assert [text for text in renderings(caught.value) if SECRET in text] == []


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_key_echoed_in_a_response_header_stays_out_of_the_engines_logs(
    engine: str, logs: pytest.LogCaptureFixture
) -> None:
    """httpcore's DEBUG trace quotes a response head whole: a header echoing the key shows
    ``[secure]`` there (and in the error's ``headers``), through a caller's client too."""
    echo = [("x-echo", f"Bearer {API_KEY}".encode())]  # the key engine_client sends
    async with serve(LoopbackServer(["400"], error_headers=echo)) as server:
        client = engine_client(engine, server.base_url, max_retries=0)
        async with client:
            with pytest.raises(BadRequestError) as caught:
                await client.search("US", limit=5)
        await options_client(client).aclose()
    assert caught.value.headers["x-echo"] == "Bearer [secure]"
    assert API_KEY not in logged(logs)
    if engine in ("httpx", "caller-httpx"):
        assert "x-echo" in logged(logs).lower()  # the head was traced, masked


def engines_log(caplog: pytest.LogCaptureFixture, *keys: str) -> str:
    """What httpx's logger writes of a line quoting ``keys`` (its filter applied)."""
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info("echoed %s", " ".join(keys))
    return caplog.records[-1].getMessage()


async def test_hpack_decoding_a_header_that_echoes_the_key_logs_it_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HTTP/2 through a caller's client: hpack logs each header it decodes at DEBUG, a server's
    echo of the key among them (as a tuple of bytes)."""
    client = NumbersClient(API_KEY, base_url=REFUSED)
    echoed = (b"x-echo", f"Bearer {API_KEY}".encode())
    with caplog.at_level(logging.DEBUG, logger="hpack.hpack"):
        logging.getLogger("hpack.hpack").debug("Decoded %s, consumed %d", echoed, 40)
    assert caplog.records[-1].getMessage() == "Decoded (b'x-echo', b'Bearer [secure]'), consumed 40"
    del client


async def test_the_engines_log_filter_forgets_a_key_with_the_last_client_sending_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two tenants' clients on one shared pool, one derived: a key stays masked while a client
    (or one derived from it) sends it, and is forgotten once none does (it was kept for as
    long as the shared pool lived, every key of every tenant ever served)."""
    first_key, second_key = "sk_first_tenant_only_here", "sk_second_tenant_only_here"
    shared = httpx.AsyncClient()
    first = NumbersClient(first_key, base_url=REFUSED, http_client=shared)
    second = NumbersClient(second_key, base_url=REFUSED, http_client=shared)
    derived = first.with_options(timeout=5)
    del first
    gc.collect()
    assert engines_log(caplog, first_key, second_key) == "echoed [secure] [secure]"
    assert all(_FILTER in logging.getLogger(name).filters for name in ENGINE_LOGGERS)
    del derived
    gc.collect()
    assert engines_log(caplog, first_key, second_key) == f"echoed {first_key} [secure]"
    del second
    gc.collect()
    assert engines_log(caplog, first_key, second_key) == f"echoed {first_key} {second_key}"
    await shared.aclose()


class GatewayError(httpx.ConnectError):
    """A caller's transport's own error, built with more than a message."""

    def __init__(self, message: str, *, request: httpx.Request, gateway: str) -> None:
        super().__init__(message, request=request)
        self.gateway = gateway


def refused_by_gateway(request: httpx.Request) -> httpx.Response:
    """A caller's transport quoting the request's Authorization header in its error."""
    quoted = f"gateway refused header {request.headers['authorization']}"
    raise GatewayError(quoted, request=request, gateway="gw1")


async def test_a_key_quoted_by_a_callers_transport_error_is_masked_whatever_its_type() -> None:
    """An error type of a caller's transport that cannot be rebuilt from a message alone: an
    APIConnectionError still (a TypeError escaped), masked, its cause a TransportError copy
    keeping the request."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(refused_by_gateway))
    async with NumbersClient(SECRET, base_url="http://api.test", http_client=http) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.with_options(max_retries=0).search("US")
    await http.aclose()
    assert "gateway refused header Bearer [secure]" in str(caught.value)
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.TransportError)
    assert cause.request.url.host == "api.test"
    assert [text for text in renderings(caught.value) if SECRET in text] == []
