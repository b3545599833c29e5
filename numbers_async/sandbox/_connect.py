"""A NumbersClient wired to a sandbox app in-process: no socket, no network, no retry sleeps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict, Unpack

import httpx

from numbers_async import Hooks, NumbersClient, RetryBudget, RetryPolicy, Timeouts

from ._app import SandboxApp, create_app

# A reserved top-level domain (RFC 2606): even a misrouted request could never leave the host.
SANDBOX_BASE_URL = "http://sandbox.numbers-async.invalid"


class SandboxClientOptions(TypedDict, total=False):
    """The ``NumbersClient`` options ``sandbox_client`` takes, typed as ``NumbersClient`` types
    them: all but those naming the server and the pool (``base_url``, ``http_client``,
    ``transport``), which are the sandbox's."""

    api_key: str | None
    timeout: float | Timeouts | httpx.Timeout
    max_retries: int | None
    retry_initial_delay: float | None
    retry_max_delay: float | None
    retry_policy: RetryPolicy | None
    page_concurrency: int
    min_new_share: float
    max_response_bytes: int | None
    deadline: float | None
    retry_budget: RetryBudget | None
    hooks: Iterable[Hooks]


def sandbox_client(
    app: SandboxApp | None = None, **options: Unpack[SandboxClientOptions]
) -> NumbersClient:
    """A ``NumbersClient`` searching ``app`` (a fresh ``create_app()`` when ``None``) in-process.

    Requests go through ``httpx.ASGITransport``: no socket is opened, so there is nothing to
    leak if the client is never closed. The key defaults to the app's and retries wait no time;
    ``options`` may override those (``api_key="wrong"`` to test a 401) or pass any other
    ``NumbersClient`` option but the server's and the pool's (``SandboxClientOptions``: typed,
    so mypy checks them as it checks ``NumbersClient``'s own).
    """
    app = create_app() if app is None else app
    options.setdefault("api_key", app.api_key)
    options.setdefault("retry_initial_delay", 0.0)
    options.setdefault("retry_max_delay", 0.0)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_BASE_URL)
    return NumbersClient(base_url=SANDBOX_BASE_URL, http_client=http, **options)
