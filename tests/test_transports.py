"""Every engine over real loopback sockets: same results, same retries, same NumbersError."""

import asyncio
import datetime
import json
import logging
import math
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any, cast

import httpx
import httpx2
import pytest
from helpers import (
    API_KEY,
    ENGINES,
    SleepRecorder,
    engine_client,
    loop_clock,
    numbers_body,
    options_client,
    since,
    until,
)
from loopback import SEED_ERROR, LoopbackServer, serve, server_in_a_thread

from numbers_async import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    InvalidRequestError,
    NumbersClient,
    PaymentRequiredError,
    ProviderError,
    RetryPolicy,
    Timeouts,
)
from numbers_async._pagination import PAGE_MAX
from numbers_async._shards import ShardedTransport
from numbers_async._transports import Transport, shared_ssl_context


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    async with serve(LoopbackServer()) as running:
        yield running


def client_for(server: LoopbackServer, transport: str, **options: Any) -> NumbersClient:
    client = NumbersClient(
        API_KEY,
        base_url=server.base_url,
        transport=cast(Transport, transport),
        retry_policy=RetryPolicy(sleep=SleepRecorder()),
        **options,
    )
    return client


async def test_search_over_real_sockets(server: LoopbackServer, transport: str) -> None:
    """A search of two pages and a part over loopback returns that many distinct numbers on
    either transport, in three requests."""
    limit = 2 * PAGE_MAX + 20
    async with client_for(server, transport) as client:
        numbers = await client.search("US", limit=limit)
    assert len({n.phone_number for n in numbers}) == limit
    assert server.requests == math.ceil(limit / PAGE_MAX)  # full pages of new numbers


@pytest.mark.parametrize(
    ("script", "error", "requests"),
    [
        (["502"] * 3, ProviderError, 3),
        (["drop"] * 3, APIConnectionError, 3),
        (["garbage"] * 3, APIConnectionError, 3),
        (["stall"] * 3, APITimeoutError, 3),
    ],
    ids=["502", "dropped-mid-body", "not-http", "stalled"],
)
async def test_failures_map_to_the_same_error_on_both_transports(
    server: LoopbackServer,
    transport: str,
    script: list[str],
    error: type[Exception],
    requests: int,
) -> None:
    """502s, dropped connections, non-HTTP replies and stalls raise the same NumbersError."""
    server.script = list(script)
    timeout = 0.5 if "stall" in script else 5.0  # short only where the server stalls
    async with client_for(server, transport, timeout=timeout, max_retries=2) as client:
        with pytest.raises(error) as caught:
            await client.search("US", limit=10)
    assert type(caught.value) is error
    assert server.requests == requests
    assert client.requests_sent == requests


@pytest.mark.parametrize("failure", ["502", "drop", "garbage", "stall"])
async def test_each_failure_is_retried_to_success(
    server: LoopbackServer, transport: str, failure: str
) -> None:
    """One failure of any kind, then a good answer: the search succeeds on the retry."""
    server.script = [failure]
    timeout = 0.5 if failure == "stall" else 5.0
    async with client_for(server, transport, timeout=timeout) as client:
        numbers = await client.search("US", limit=5)
    assert len(numbers) == 5
    assert server.requests == 2


async def test_connections_are_closed_with_the_client(
    server: LoopbackServer, transport: str
) -> None:
    """After aclose(), the server sees no open connection."""
    async with client_for(server, transport) as client:
        await asyncio.gather(*(client.search("US", limit=5) for _ in range(20)))
        assert server.open_connections > 0
    assert await until(lambda: server.open_connections == 0)


ENGINE_MODULES = ("httpcore", "h11", "anyio", "httpcore2", "httpx2", "aiohttp")


@pytest.mark.parametrize(
    ("transport", "loaded"),
    [
        (None, []),  # import alone
        ("httpx", ["httpcore", "h11", "anyio"]),
        ("httpx2", ["h11", "anyio", "httpcore2", "httpx2"]),  # httpcore2 uses h11 and anyio
        ("aiohttp", ["aiohttp"]),
    ],
)
def test_an_engine_is_imported_only_when_a_client_selects_it(
    transport: str | None, loaded: list[str]
) -> None:
    """``import numbers_async`` loads no engine's modules (httpx itself loads httpcore only for
    its pools); a client loads its own engine's and not httpcore 1.x unless it is the engine."""
    options = f"'k', base_url='http://127.0.0.1:9', transport={transport!r}"
    make = "" if transport is None else f"numbers_async.NumbersClient({options})"
    code = (
        f"import sys, numbers_async; {make}\n"
        f"print([m for m in {ENGINE_MODULES!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == str(loaded)


def test_unknown_transport_is_refused() -> None:
    """transport= only takes 'httpx', 'httpx2' or 'aiohttp'."""
    with pytest.raises(InvalidRequestError, match="transport"):
        NumbersClient(API_KEY, base_url="http://127.0.0.1:1", transport="curl")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (["502"] * 2, ProviderError),
        (["drop"] * 2, APIConnectionError),
        (["garbage"] * 2, APIConnectionError),
        (["stall"] * 2, APITimeoutError),
    ],
    ids=["502", "dropped-mid-body", "not-http", "stalled"],
)
async def test_a_callers_httpx2_client_raises_the_same_errors(
    server: LoopbackServer, script: list[str], error: type[Exception]
) -> None:
    """Through a caller's httpx2.AsyncClient, failures raise the same NumbersError as httpx."""
    server.script = list(script)
    async with httpx2.AsyncClient() as http:
        client = NumbersClient(
            API_KEY,
            base_url=server.base_url,
            http_client=http,
            timeout=0.3 if "stall" in script else 5.0,  # short only where the server stalls
            max_retries=1,
        )
        with pytest.raises(error) as caught:
            await client.search("US", limit=10)
        assert type(caught.value) is error
        assert len(await client.search("US", limit=10)) == 10  # the pool is still usable
        await client.aclose()
        assert not http.is_closed  # the caller's client is the caller's to close
    assert server.requests == 3


async def test_a_closed_callers_httpx2_client_raises_client_closed(server: LoopbackServer) -> None:
    """Searching through a caller's httpx2 client the caller closed: ClientClosedError."""
    http = httpx2.AsyncClient()
    client = NumbersClient(API_KEY, base_url=server.base_url, http_client=http)
    await http.aclose()
    with pytest.raises(ClientClosedError):
        await client.search("US")
    assert server.requests == 0


CALLER_KINDS = {"caller-httpx": httpx, "caller-httpx2": httpx2}


@pytest.mark.parametrize("kind", CALLER_KINDS)
async def test_a_callers_client_defaults_are_sent(server: LoopbackServer, kind: str) -> None:
    """A caller's client's own headers, cookies and query parameters go out with each request,
    the key's Authorization header winning over one of its own (httpx2's were dropped; then its
    Accept, Accept-Encoding and Connection lost to httpx's defaults)."""
    engine: Any = CALLER_KINDS[kind]
    own = {"Accept": "application/json", "Accept-Encoding": "identity", "Connection": "close"}
    async with engine.AsyncClient(
        headers={"X-Tenant": "acme", "Authorization": "Basic Z3c6cHc=", **own},
        cookies={"gw_session": "s1"},
        params={"tenant": "acme"},
    ) as http:
        client = NumbersClient(API_KEY, base_url=server.base_url, http_client=http)
        assert len(await client.search("US", limit=3)) == 3
    request_line, *headers = server.heads[-1].decode().lower().split("\r\n")
    assert "tenant=acme" in request_line
    assert "x-tenant: acme" in headers
    assert "cookie: gw_session=s1" in headers
    assert f"authorization: bearer {API_KEY.lower()}" in headers
    assert {f"{name}: {value}".lower() for name, value in own.items()} <= set(headers)


async def read_body(response: Any) -> None:
    await response.aread()  # a response hook logging bodies, as services have


@pytest.mark.parametrize("kind", CALLER_KINDS)
async def test_a_callers_client_that_reads_the_body_first(
    server: LoopbackServer, kind: str
) -> None:
    """A caller's client whose response hook reads each body (or a MockTransport, whose
    responses come read): the search reads it too (httpx2 raised a raw StreamConsumed)."""
    engine: Any = CALLER_KINDS[kind]

    def answer(request: Any) -> Any:
        return engine.Response(200, json=numbers_body(["+14155550100", "+14155550101"]))

    async with (
        engine.AsyncClient(event_hooks={"response": [read_body]}) as hooked,
        engine.AsyncClient(transport=engine.MockTransport(answer)) as mocked,
    ):
        for http, base_url in ((hooked, server.base_url), (mocked, "http://numbers.test")):
            client = NumbersClient(API_KEY, base_url=base_url, http_client=http)
            assert len(await client.search("US", limit=2)) == 2


@pytest.mark.parametrize("kind", CALLER_KINDS)
async def test_a_callers_client_with_credentials_is_refused(
    server: LoopbackServer, kind: str
) -> None:
    """A client whose auth= is Basic or Digest credentials would replace the key's header
    (a valid key then failed with 401): refused at construction, naming http_client. A custom
    auth flow adding its own header is the caller's, and the key still goes out."""
    engine: Any = CALLER_KINDS[kind]
    for credentials in (engine.BasicAuth("gw", "pw"), engine.DigestAuth("gw", "pw")):
        async with engine.AsyncClient(auth=credentials) as http:
            with pytest.raises(InvalidRequestError, match=r"http_client has auth=\w+Auth"):
                NumbersClient(API_KEY, base_url=server.base_url, http_client=http)

    class Signed(engine.Auth):  # type: ignore[misc]
        def auth_flow(self, request: Any) -> Any:
            request.headers["X-Signature"] = "sig"
            yield request

    async with engine.AsyncClient(auth=Signed()) as http:
        client = NumbersClient(API_KEY, base_url=server.base_url, http_client=http)
        assert len(await client.search("US", limit=3)) == 3
    headers = server.heads[-1].decode().lower().split("\r\n")
    assert "x-signature: sig" in headers
    assert f"authorization: bearer {API_KEY.lower()}" in headers


@pytest.mark.parametrize("kind", CALLER_KINDS)
@pytest.mark.parametrize("status", ["400", "502"])
async def test_a_callers_hook_exception_is_its_own(
    server: LoopbackServer, kind: str, status: str
) -> None:
    """A caller's response hook calling raise_for_status(): its HTTPStatusError reaches the
    caller unchanged after one request, from either kind of client (httpx2's became an
    APIConnectionError, retried, a 400 sent three times)."""
    engine: Any = CALLER_KINDS[kind]

    async def strict(response: Any) -> None:
        response.raise_for_status()

    server.script = [status] * 3
    async with engine.AsyncClient(event_hooks={"response": [strict]}) as http:
        client = NumbersClient(API_KEY, base_url=server.base_url, http_client=http, max_retries=2)
        with pytest.raises(engine.HTTPStatusError):
            await client.search("US", limit=3)
    assert server.requests == 1


@pytest.mark.parametrize("kind", CALLER_KINDS)
@pytest.mark.parametrize("steps", [0, 1])
async def test_a_callers_client_closed_as_a_search_starts(
    server: LoopbackServer, kind: str, steps: int
) -> None:
    """The caller closes its client as a search starts (after 0 or 1 loop steps of it, before
    any request is on a connection): ClientClosedError naming the http_client, never httpx's
    raw RuntimeError "client has been closed" (the search had passed the check, then sent).
    Closed later, with a request on its connection, httpx itself leaves that socket open."""
    engine: Any = CALLER_KINDS[kind]
    http = engine.AsyncClient()
    client = NumbersClient(API_KEY, base_url=server.base_url, http_client=http)
    assert len(await client.search("US", limit=3)) == 3  # warm: a pooled connection
    search = asyncio.create_task(client.search("US", limit=3))
    for _ in range(steps):
        await asyncio.sleep(0)
    await http.aclose()
    with pytest.raises(ClientClosedError, match="http_client passed to the NumbersClient"):
        await search


def test_http_client_must_be_an_async_client_of_httpx_or_httpx2() -> None:
    """http_client= refuses anything but an httpx or httpx2 AsyncClient, naming both."""
    with pytest.raises(InvalidRequestError, match=r"httpx2\.AsyncClient"):
        NumbersClient(API_KEY, base_url="http://127.0.0.1:1", http_client=httpx2.Client())  # type: ignore[arg-type]


async def test_status_errors_carry_the_responses_headers_and_body(
    server: LoopbackServer, transport: str
) -> None:
    """A 402 on any engine: the error holds its headers (read-only, any case) and raw body."""
    server.script = ["402"]
    server.error_headers = [("X-Request-Id", b"req-7"), ("Vary", b"a"), ("Vary", b"b")]
    async with client_for(server, transport) as client:
        with pytest.raises(PaymentRequiredError) as caught:
            await client.search("US")
    error = caught.value
    assert error.headers["x-request-id"] == error.headers["X-Request-ID"] == "req-7"
    assert error.headers["vary"] == "a, b"
    assert error.body == SEED_ERROR
    with pytest.raises(TypeError):
        error.headers["x-request-id"] = "changed"  # type: ignore[index]
    copy = pickle.loads(pickle.dumps(error))
    assert (dict(copy.headers), copy.body) == (dict(error.headers), error.body)


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_status_error_s_response_is_as_httpx_leaves_it(
    server: LoopbackServer, engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On every engine (the owned pools send without httpx's client layers): the error's
    response is closed, with its request and elapsed time, and httpx's INFO line logged."""
    server.script = ["402"]
    with caplog.at_level(logging.INFO, logger="httpx"):
        async with engine_client(engine, server.base_url) as client:
            with pytest.raises(PaymentRequiredError) as caught:
                await client.search("US")
        await options_client(client).aclose()
    response = caught.value.response
    assert response is not None
    assert response.is_closed
    assert response.request.url.path == "/numbers/available"
    assert datetime.timedelta(0) < response.elapsed < datetime.timedelta(seconds=10)
    logged = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert logged == [f'HTTP Request: GET {response.request.url} "HTTP/1.1 402 Payment Required"']


async def test_timeouts_bound_a_stalled_read_on_every_engine(
    server: LoopbackServer, transport: str
) -> None:
    """timeout=Timeouts(read=0.2): a server that never answers raises APITimeoutError."""
    server.script = ["stall"]
    timeouts = Timeouts(connect=1.0, read=0.2, pool=1.0)
    async with client_for(server, transport, timeout=timeouts, max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            async with asyncio.timeout(5):
                await client.search("US")


@pytest.mark.parametrize("derived", [False, True], ids=["client", "derived-before-any-search"])
def test_a_second_event_loop_gets_a_clear_error(transport: str, derived: bool) -> None:
    """A client searched from a second event loop: ClientClosedError naming the cause, no crash,
    and the client still works (and closes) on the loop it belongs to. A client with_options()
    derived before any search belongs to the loop its family first searched on (one pool)."""
    with server_in_a_thread(LoopbackServer()) as server, asyncio.Runner() as first_loop:
        client = client_for(server, transport)
        other = client.with_options(max_retries=0) if derived else client
        first_loop.run(client.search("US", limit=5))
        with pytest.raises(ClientClosedError, match="event loop"):
            asyncio.run(other.search("US", limit=5))
        again = first_loop.run(other.search("US", limit=5))
        first_loop.run(client.aclose())
    assert len(again) == 5
    assert server.requests == 2


def test_searches_from_other_threads_loops_are_refused_while_the_owner_searches(
    transport: str,
) -> None:
    """A client searching steadily on its own loop's thread, and four threads each calling
    asyncio.run(client.search()) (sync code bridging to async): every call from another loop
    raises ClientClosedError at once (some hung for ever: they waited at the client's entry
    gate, whose owner then woke them from the wrong thread)."""
    with server_in_a_thread(LoopbackServer(latency=(0.0, 0.01))) as server:
        client = client_for(server, transport, max_retries=0)
        stop = threading.Event()

        async def owner() -> None:
            while not stop.is_set():  # batches of 40: the gate has searches waiting
                await asyncio.gather(*(client.search("US", limit=3) for _ in range(40)))
            await client.aclose()

        def foreign(_: int) -> tuple[str, float]:
            async def call() -> None:
                async with asyncio.timeout(5):  # a hang ends here, or at this loop's next wake
                    await client.search("US", limit=3)

            started = time.monotonic()
            try:
                asyncio.run(call())
            except Exception as exc:
                return type(exc).__name__, time.monotonic() - started
            return "answered", time.monotonic() - started

        owning = threading.Thread(target=asyncio.run, args=(owner(),))
        owning.start()
        try:
            deadline = time.monotonic() + 5  # the owner's loop is the client's first
            while client.requests_sent == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            with ThreadPoolExecutor(4) as pool:
                outcomes = list(pool.map(foreign, range(60)))
        finally:
            stop.set()
            owning.join(30)
    assert {outcome for outcome, _ in outcomes} == {"ClientClosedError"}
    assert max(took for _, took in outcomes) < 1.0
    assert not owning.is_alive()


# In a process of its own (forking the test process, with its threads, is unsafe): a client
# that searched, and one that did not, then a fork; each searches in the child.
FORKED = """
import asyncio, json, os, sys
from numbers_async import NumbersClient, NumbersError

base_url, transport = sys.argv[1:]
used, unused = (NumbersClient("sk_test_fork_1234", base_url=base_url, transport=transport)
                for _ in range(2))
loop = asyncio.new_event_loop()
loop.run_until_complete(used.search("US", limit=3))
read_end, write_end = os.pipe()
if os.fork() == 0:
    child_loop, seen = asyncio.new_event_loop(), {}
    # the used client on the loop the child inherited (the parent's), the unused on its own
    for name, client, on in (("used", used, loop), ("unused", unused, child_loop)):
        try:
            seen[name] = len(on.run_until_complete(client.search("US", limit=3)))
        except NumbersError as error:
            seen[name] = f"{type(error).__name__}: {error}"
        on.run_until_complete(client.aclose())  # the used one's marks it closed, nothing more
    seen["used_closed"] = used.is_closed
    os.write(write_end, json.dumps(seen).encode())
    os._exit(0)
os.close(write_end)
child = json.loads(os.read(read_end, 65536))
os.wait()
parent = len(loop.run_until_complete(used.search("US", limit=3)))
loop.run_until_complete(used.aclose())
print(json.dumps({"child": child, "parent": parent}))
"""


def test_a_client_that_searched_before_a_fork_is_refused_in_the_child(transport: str) -> None:
    """After os.fork(), a client that had searched is refused in the child, saying so, even on
    the loop the child inherited (the two processes shared its pooled sockets and read each
    other's answers), and aclose() there only marks it closed (the pool is the parent's); one
    that had not searched (a module's client in a pre-fork server) works there; the parent's
    goes on."""
    with server_in_a_thread(LoopbackServer()) as server:
        result = subprocess.run(
            [sys.executable, "-c", FORKED, server.base_url, transport],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["child"]["used"].startswith("ClientClosedError: a search in a forked process")
    assert seen["child"]["unused"] == 3
    assert seen["child"]["used_closed"] is True
    assert seen["parent"] == 3


def test_closing_on_another_event_loop_gets_a_clear_error(transport: str) -> None:
    """aclose() from a second event loop: ClientClosedError naming the cause (it was a builtin
    RuntimeError, its sockets left open), and the client still searches and closes on its own
    loop."""
    with server_in_a_thread(LoopbackServer()) as server, asyncio.Runner() as first_loop:
        client = client_for(server, transport)
        first_loop.run(client.search("US", limit=5))
        with pytest.raises(ClientClosedError, match=r"aclose\(\) on another event loop"):
            asyncio.run(client.aclose())
        again = first_loop.run(client.search("US", limit=5))
        first_loop.run(client.aclose())
    assert len(again) == 5
    assert client.is_closed


def test_closing_a_closed_client_again_does_nothing_on_any_loop(transport: str) -> None:
    """aclose() of a closed client returns at once, from any loop (``async with`` and a
    shutdown hook on another loop), as does that of a client that never searched: only a
    client with connections to close is bound to its loop."""
    with server_in_a_thread(LoopbackServer()) as server:
        searched, unused = client_for(server, transport), client_for(server, transport)

        async def search_then_close() -> None:
            async with searched:
                await searched.search("US", limit=5)

        async def enter_and_leave() -> None:
            async with unused:
                pass

        asyncio.run(search_then_close())
        asyncio.run(searched.aclose())
        asyncio.run(enter_and_leave())
        asyncio.run(unused.aclose())
    assert searched.is_closed
    assert unused.is_closed


async def test_timeout_bounds_a_whole_attempt_against_a_dripping_server(
    server: LoopbackServer, transport: str
) -> None:
    """timeout=0.5 against a body dripped a byte every 50 ms (no single read is slow): the
    attempt ends as APITimeoutError after about 0.5 s on every engine."""
    server.script = ["drip"]
    async with client_for(server, transport, timeout=0.5, max_retries=0) as client:
        started = loop_clock()
        with pytest.raises(APITimeoutError, match="whole attempt"):
            await client.search("US", limit=10)
        elapsed = since(started)
    assert 0.5 <= elapsed < 1.5


def ssl_contexts(client: NumbersClient) -> list[object]:
    """The SSL context of each connection pool ``client`` owns."""
    transport: Any = client._requester.http._transport
    if isinstance(transport, ShardedTransport):  # two pools, built now as a search would
        pools: list[Any] = [transport.shard(0), transport.shard(1)]
        return [(pool.pool if hasattr(pool, "pool") else pool._pool)._ssl_context for pool in pools]
    return [transport.ssl_context]


def test_owned_pools_share_one_ssl_context(transport: str) -> None:
    """Building an SSL context loads the CA bundle (tens of ms): every pool of every client
    shares the process's one, so a client costs no such load (httpx2's once cost five)."""
    first, second = (
        NumbersClient(API_KEY, base_url="https://api.example", transport=cast(Transport, transport))
        for _ in range(2)
    )
    contexts = ssl_contexts(first) + ssl_contexts(second)
    assert contexts[0] is shared_ssl_context()
    assert all(context is contexts[0] for context in contexts)


@pytest.mark.parametrize("kind", ["httpx", "httpx2", "aiohttp", "caller-httpx", "caller-httpx2"])
async def test_a_connection_error_names_the_host_it_tried(kind: str) -> None:
    """Nothing listens on 127.0.0.1:9: the error names that host and port on every engine and
    through a caller's client (httpx's own message, "All connection attempts failed", named
    neither)."""
    async with AsyncExitStack() as stack:
        options: dict[str, Any] = {"max_retries": 0}
        if kind in CALLER_KINDS:
            engine: Any = CALLER_KINDS[kind]
            options["http_client"] = await stack.enter_async_context(engine.AsyncClient())
        else:
            options["transport"] = cast(Transport, kind)
        client = NumbersClient(API_KEY, base_url="http://127.0.0.1:9", **options)
        await stack.enter_async_context(client)
        with pytest.raises(APIConnectionError) as caught:
            await client.search("US")
    assert " to 127.0.0.1:9: " in str(caught.value)


async def test_a_connection_error_brackets_an_ipv6_host() -> None:
    """http://[::1]:9 is named as such ("to ::1:9" read as a port of an address)."""
    async with NumbersClient(API_KEY, base_url="http://[::1]:9", max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.search("US")
    assert " to [::1]:9: " in str(caught.value)
