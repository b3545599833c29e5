"""Raw HTTP against a sandbox app, in-process: what the sandbox tests send."""

from __future__ import annotations

from typing import Any

import httpx

from numbers_async._auth import key_headers
from numbers_async.sandbox import DEFAULT_API_KEY, SEARCH_PATH, SandboxApp

SANDBOX_URL = "http://sandbox.test"


async def get(
    app: SandboxApp,
    params: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    path: str = SEARCH_PATH,
    method: str = "GET",
) -> httpx.Response:
    """One request to ``app`` through httpx.ASGITransport, authorized unless ``headers`` say."""
    sent = key_headers(DEFAULT_API_KEY) if headers is None else headers
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as http:
        return await http.request(method, path, params=params, headers=sent)


async def phone_numbers(app: SandboxApp, params: dict[str, Any]) -> list[str]:
    """The phone numbers one successful search returns."""
    response = await get(app, params)
    assert response.status_code == 200, response.text
    return [number["phoneNumber"] for number in response.json()["numbers"]]
