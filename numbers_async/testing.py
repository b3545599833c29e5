"""A pytest plugin: test your own code against the sandbox API, in-process and offline.

Enable it in your ``conftest.py``::

    pytest_plugins = ["numbers_async.testing"]

then ask for the fixtures::

    async def test_reserves_a_number(numbers_client, numbers_sandbox):
        numbers_sandbox.faults.script(502)          # the next request fails once, is retried
        numbers = await numbers_client.search("US", area_code="415", limit=3)
        assert len(numbers) == 3 and numbers_sandbox.request_count == 2

``numbers_sandbox`` is a fresh sandbox app for each test (seed 0: the same numbers every run);
override the fixture to change its seed, key or faults. ``numbers_client`` is a
``NumbersClient`` wired to it through ``httpx.ASGITransport``, with retries that wait no time.
The fixtures are plain (not async), so any asyncio test runner can use them (pytest-asyncio,
or anyio's plugin on its asyncio backend); the client needs asyncio, so not trio. Needs the
``sandbox`` extra: ``pip install 'numbers-async[sandbox]'``.
"""

from __future__ import annotations

import pytest

from numbers_async import NumbersClient
from numbers_async.sandbox import SandboxApp, create_app, sandbox_client


@pytest.fixture
def numbers_sandbox() -> SandboxApp:
    """A fresh sandbox API app (seed 0); set faults on ``numbers_sandbox.faults``."""
    return create_app()


@pytest.fixture
def numbers_client(numbers_sandbox: SandboxApp) -> NumbersClient:
    """A ``NumbersClient`` searching ``numbers_sandbox`` in-process, retrying without waits."""
    return sandbox_client(numbers_sandbox)
