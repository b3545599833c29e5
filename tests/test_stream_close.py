"""An iter_search stream closed by another task than the one reading it (a supervisor, a
shutdown handler) ends at once, its requests cancelled, its reader's ``async for`` finished."""

import asyncio
import weakref

import pytest
from helpers import ENGINES, engine_client, options_client, until
from helpers import connections_in_use as in_use
from loopback import LoopbackServer, serve

from numbers_async import AvailableNumber, BadRequestError, Hooks, NumbersError, SearchStream
from numbers_async.hooks import AttemptInfo


async def read_all(stream: SearchStream) -> list[AvailableNumber]:
    return [number async for number in stream]


@pytest.mark.parametrize("window", [1, 3])
@pytest.mark.parametrize("engine", ENGINES)
async def test_aclose_from_another_task_ends_the_stream_its_reader_waits_in(
    engine: str, window: int
) -> None:
    """The reader has the first page and waits for the next (``window`` of them in flight)
    from a 0.3 s server: aclose() elsewhere returns at once, the reader's loop ends with the
    first page's numbers, no request is sent after (aclose() raised "asynchronous generator is
    already running" and the reader got all 500 numbers, 9.8 s later)."""
    async with serve(LoopbackServer(latency=(0.3, 0.3))) as server:
        async with engine_client(engine, server.base_url) as client:
            stream = client.iter_search("US", limit=500, page_concurrency=window)
            reader = asyncio.create_task(read_all(stream))
            assert await until(lambda: server.requests == 1 + window)
            await stream.aclose()
            assert reader.done()  # it left the stream before aclose() returned
            assert len(reader.result()) == 50
            assert stream.requests == 1 + window
            await asyncio.sleep(0.5)  # a page still to be sent would have gone by now
            assert server.requests == 1 + window
            # the cancelled pages' connections were closed, not left busy
            assert await until(lambda: in_use(client) == 0)
        await options_client(client).aclose()


async def test_a_closer_cancelled_leaves_the_others_closing() -> None:
    """Two tasks close the stream its reader waits in, and the first is cancelled: the second
    still returns once the reader has left (they awaited one future, which the first's
    cancellation cancelled: the second got a CancelledError of nobody's)."""
    server = LoopbackServer(latency=(0.3, 0.3))
    async with serve(server), engine_client("httpx", server.base_url) as client:
        stream = client.iter_search("US", limit=500, page_concurrency=3)
        reader = asyncio.create_task(read_all(stream))
        assert await until(lambda: server.requests == 4)
        first = asyncio.create_task(stream.aclose())
        second = asyncio.create_task(stream.aclose())
        await asyncio.sleep(0)  # both wait for the reader to leave
        first.cancel()
        await asyncio.wait([first, second])
        assert first.cancelled()
        assert second.result() is None
        assert len(reader.result()) == 50
        await stream.aclose()  # a later one returns at once too


async def test_a_reader_cancelled_as_well_is_cancelled() -> None:
    """aclose() from elsewhere and a cancellation of the reader's own task at once: the
    reader is cancelled (the stream takes back only its own cancellation, as asyncio.timeout
    does)."""
    server = LoopbackServer(latency=(0.3, 0.3))
    async with serve(server), engine_client("httpx", server.base_url) as client:
        stream = client.iter_search("US", limit=100)
        reader = asyncio.create_task(read_all(stream))
        await until(lambda: server.requests == 1)
        reader.cancel()  # not delivered yet when aclose() interrupts the reader's wait
        await stream.aclose()
        with pytest.raises(asyncio.CancelledError):
            await reader


async def test_a_reader_that_once_took_back_a_cancellation_is_not_cancelled_by_aclose() -> None:
    """The reader's task caught a cancellation earlier and went on, taking it back with
    ``uncancel()`` as asyncio asks: aclose() elsewhere ends its stream quietly all the same."""
    server = LoopbackServer(latency=(0.3, 0.3))
    async with serve(server), engine_client("httpx", server.base_url) as client:
        stream = client.iter_search("US", limit=100)

        async def reader() -> list[AvailableNumber]:
            try:
                await asyncio.sleep(10)  # cancelled below, and carries on
            except asyncio.CancelledError:
                task = asyncio.current_task()
                assert task is not None
                task.uncancel()
            return await read_all(stream)

        task = asyncio.create_task(reader())
        await asyncio.sleep(0)
        task.cancel()
        await until(lambda: server.requests == 1)
        await stream.aclose()
        assert task.result() == []


async def test_aclose_between_pages_from_another_task_ends_the_stream() -> None:
    """The reader holds a number (no step of the stream running): aclose() elsewhere closes
    the stream itself; the reader's next step ends its loop."""
    server = LoopbackServer()
    async with serve(server), engine_client("httpx", server.base_url) as client:
        stream = client.iter_search("US", limit=500)
        first = await anext(stream)
        await asyncio.create_task(stream.aclose())
        assert [number async for number in stream] == []
        assert first.phone_number
        assert server.requests == 1


@pytest.mark.parametrize("second_page", ["stall", "400"])
async def test_a_stream_that_failed_says_so_when_read_again(second_page: str) -> None:
    """A step cut off by a timeout around ``anext()`` (or a page failing with 400) ends the
    stream: reading it again raises a NumbersError naming how it ended (it raised
    StopAsyncIteration, which a loop that goes on after a timeout takes for a search done)."""
    server = LoopbackServer(script=["ok", second_page], default="stall")
    async with serve(server), engine_client("httpx", server.base_url, max_retries=0) as client:
        stream = client.iter_search("US", limit=200)
        for _ in range(50):
            await anext(stream)
        with pytest.raises(TimeoutError if second_page == "stall" else BadRequestError):
            async with asyncio.timeout(0.5):
                await anext(stream)
        ended = "CancelledError" if second_page == "stall" else "BadRequestError"
        with pytest.raises(NumbersError, match=f"stream already ended with {ended}"):
            await anext(stream)
        assert stream.stop_reason is None


@pytest.mark.parametrize("second_page", ["ok", "400"])
async def test_a_stream_keeps_no_task_that_read_it(second_page: str) -> None:
    """A stream read to its end (or to its error) in a task, and kept: it holds no reference
    to that task, nor so to what the task returned or raised."""
    server = LoopbackServer(script=["ok", second_page, "ok"])
    async with serve(server), engine_client("httpx", server.base_url, max_retries=0) as client:
        stream = client.iter_search("US", limit=100)
        reader = asyncio.create_task(read_all(stream))
        await asyncio.wait([reader])
        gone = weakref.ref(reader)
        del reader
        assert gone() is None
        assert stream.pages >= 1


class CloseOnCancelledAttempt(Hooks):
    """Closes ``stream`` from a task of its own when an attempt ends cancelled: as the search's
    error is on its way out, its other pages being cancelled."""

    def __init__(self) -> None:
        self.stream: SearchStream | None = None
        self.closing: asyncio.Task[None] | None = None

    def attempt_ended(self, attempt: AttemptInfo) -> None:
        if attempt.cancelled and self.stream is not None and self.closing is None:
            self.closing = asyncio.get_running_loop().create_task(self.stream.aclose())


@pytest.mark.parametrize("engine", ENGINES)
async def test_aclose_while_the_search_fails_leaves_the_reader_its_error(engine: str) -> None:
    """Three pages in flight, the first answered 400 at once, the others stalled: aclose() from
    another task while the failing stream cancels them leaves the reader its BadRequestError
    (the stream ended quietly, the error lost, on every engine)."""
    server = LoopbackServer(script=["ok", "400"], default="stall")
    closer = CloseOnCancelledAttempt()
    async with serve(server):
        client = engine_client(engine, server.base_url, max_retries=0, hooks=[closer])
        async with client:
            closer.stream = client.iter_search("US", limit=200, page_concurrency=3)
            with pytest.raises(BadRequestError):
                await read_all(closer.stream)
            assert closer.closing is not None
            await closer.closing
        await options_client(client).aclose()
