"""Fixtures: a recording sleep, and NumbersClients wired to httpx.MockTransport handlers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from helpers import API_KEY, BASE_URL, Handler, SleepRecorder

from numbers_async import NumbersClient, RetryPolicy

# The machine's proxy variables are left out of every test and the processes tests start: the
# servers are on 127.0.0.1, and a caller's httpx client would send to a proxy named there (and
# an owned pool warn of it, an error under filterwarnings).
for _name in [name for name in os.environ if name.lower().endswith("_proxy")]:
    del os.environ[_name]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the event loop every test runs on: asyncio's own, or uvloop's, as services under "
        "uvicorn[standard] run (`make test-uvloop`)",
    )


class _Uvloop:
    """Every async test on uvloop (pytest-asyncio 1.4+ asks this hook for its loops)."""

    @staticmethod
    def pytest_asyncio_loop_factories(
        config: pytest.Config, item: pytest.Item
    ) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
        import uvloop

        return {"uvloop": uvloop.new_event_loop}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--loop") == "uvloop":
        import uvloop

        config.pluginmanager.register(_Uvloop(), "numbers-async-uvloop")
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # tests' own asyncio.run()


@pytest.fixture(params=["httpx", "httpx2", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per NumbersClient transport."""
    name: str = request.param
    return name


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def make_client(
    sleeps: SleepRecorder,
) -> AsyncIterator[Callable[..., NumbersClient]]:
    """Builds clients on an httpx.MockTransport handler; sleeping is recorded, not done."""
    made: list[NumbersClient] = []

    def factory(handler: Handler, **options: Any) -> NumbersClient:
        options.setdefault("api_key", API_KEY)
        options.setdefault("base_url", BASE_URL)
        options.setdefault("retry_policy", RetryPolicy(sleep=sleeps))
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = NumbersClient(http_client=http, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
