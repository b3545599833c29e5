"""Faults on demand: provider errors, scripted statuses, the quota, latency, tracking ids."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import loop_clock, since
from sandbox_support import get

from numbers_async.sandbox import Faults, create_app

US: dict[str, Any] = {"countryCode": "US", "areaCode": "212", "limit": 5}


async def test_provider_errors_are_502_naming_provider_and_code() -> None:
    """With fail_rate=1 every valid search gets a 502 whose body names provider and providerCode."""
    response = await get(create_app(fail_rate=1.0), US)
    error = response.json()["error"]
    assert response.status_code == 502
    assert error["code"] == "provider_error"
    assert error["provider"]
    assert error["providerCode"]
    assert error["fix"]


async def test_fail_rate_fails_that_share_of_searches() -> None:
    """fail_rate=0.25 fails about a quarter of 400 searches (deterministic for the seed)."""
    app = create_app(seed=5, fail_rate=0.25)
    statuses = [(await get(app, US)).status_code for _ in range(400)]
    assert set(statuses) == {200, 502}
    assert 60 <= statuses.count(502) <= 140


async def test_invalid_requests_are_rejected_before_the_provider_fails() -> None:
    """A bad query is a 400 even at fail_rate=1: the provider is only asked for valid searches."""
    response = await get(create_app(fail_rate=1.0), {"countryCode": "US", "limit": "500"})
    assert response.status_code == 400


async def test_scripted_statuses_answer_the_next_requests_in_order() -> None:
    """script() queues statuses for the next requests; a scripted 200 is served normally."""
    app = create_app(script=[502, 502])
    app.faults.script(200, 402)
    statuses = [(await get(app, US)).status_code for _ in range(5)]
    assert statuses == [502, 502, 200, 402, 200]
    assert app.faults.pending == ()


@pytest.mark.parametrize(
    ("status", "content_type", "code"),
    [
        (400, "application/json", "invalid_request"),
        (402, "application/json", "usage_limit_exceeded"),
        (502, "application/json", "provider_error"),
        (520, "application/json", "sandbox_fault"),
        (500, None, None),
        (401, None, None),
        (503, "text/plain; charset=utf-8", None),
        (504, "text/plain; charset=utf-8", None),
    ],
)
async def test_each_scripted_status_has_the_api_shape_for_it(
    status: int, content_type: str | None, code: str | None
) -> None:
    """Documented JSON statuses get seed error bodies, 401/500 none, gateway statuses text."""
    response = await get(create_app(script=[status]), US)
    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    if code is None:
        assert "trackingId" not in response.text
    else:
        assert response.json()["error"]["code"] == code


async def test_scripted_faults_apply_before_auth() -> None:
    """A scripted status answers even an unauthenticated request, then auth applies again."""
    app = create_app(script=[502])
    first = await get(app, US, headers={})
    second = await get(app, US, headers={})
    assert (first.status_code, second.status_code) == (502, 401)


async def test_quota_answers_402_once_used_up() -> None:
    """After quota searches, every request gets 402 usage_limit_exceeded, even a bad one."""
    app = create_app(quota=2)
    statuses = [(await get(app, US)).status_code for _ in range(3)]
    bad = await get(app, {"countryCode": "nope"})
    assert statuses == [200, 200, 402]
    assert bad.status_code == 402
    assert bad.json()["error"]["code"] == "usage_limit_exceeded"
    assert app.searches_served == 2


async def test_failed_searches_do_not_use_the_quota() -> None:
    """Only searches that got numbers count against the quota."""
    app = create_app(quota=1, script=[502])
    statuses = [(await get(app, US)).status_code for _ in range(3)]
    assert statuses == [502, 200, 402]


async def test_latency_delays_every_response() -> None:
    """latency adds that many seconds before each response, numbers or error (a tiny one here)."""
    app = create_app(latency=0.03)
    for query, status in ((US, 200), ({"countryCode": "nope"}, 400)):
        started = loop_clock()
        response = await get(app, query)
        assert response.status_code == status
        assert since(started) >= 0.03


async def test_faults_can_change_while_serving() -> None:
    """Faults set on a running app take effect on the next request."""
    app = create_app()
    before = await get(app, US)
    app.faults.fail_rate = 1.0
    during = await get(app, US)
    app.faults.fail_rate = 0.0
    app.faults.quota = app.searches_served
    after = await get(app, US)
    assert [before.status_code, during.status_code, after.status_code] == [200, 502, 402]


async def test_every_error_body_has_a_unique_tracking_id() -> None:
    """Tracking ids differ across all error bodies of an app, whatever the status."""
    app = create_app(fail_rate=0.5, script=[402, 400, 502, 520])
    bodies = [(await get(app, params)).json() for params in [US, {"countryCode": "ZZ"}] * 30]
    ids = [body["trackingId"] for body in bodies if "trackingId" in body]
    assert len(ids) > 30
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"fail_rate": 1.5}, "fail_rate"),
        ({"fail_rate": -0.1}, "fail_rate"),
        ({"latency": -1.0}, "latency"),
        ({"quota": -1}, "quota"),
        ({"script": [199]}, "scripted status"),
        ({"script": [600]}, "scripted status"),
        ({"script": [True]}, "scripted status"),
        ({"script": [100]}, "scripted status.*100"),
        ({"script": [204]}, "scripted status.*204"),
        ({"script": [304]}, "scripted status.*304"),
    ],
)
def test_impossible_faults_are_refused(options: dict[str, Any], named: str) -> None:
    """Out-of-range fault settings raise ValueError naming the setting, not misbehave later."""
    with pytest.raises(ValueError, match=named):
        Faults(**options)
