"""The public types as a typed service writes against them: `make lint` checks this file with
`mypy --strict` (no cast, no ignore), and the tests run the same code. Each was a mypy error
for a user: a Timeouts given to with_options, attempt.search read without a None test, a
Transport or StopReason only importable from private modules, an optional field narrowed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import mypy.api
import pytest
from helpers import numbers_body

from numbers_async import (
    UNSET,
    AttemptInfo,
    AvailableNumber,
    Hooks,
    NumbersClient,
    SearchInfo,
    StopReason,
    Timeouts,
    Transport,
    Unset,
)
from numbers_async.sandbox import create_app, sandbox_client

MakeClient = Callable[..., NumbersClient]


def shown_locality(number: AvailableNumber) -> str:
    """The README's test for an absent field, narrowed to str by the type checker."""
    if isinstance(number.locality, Unset):
        return "-"
    return number.locality.upper()


def test_an_absent_field_narrows_to_its_type() -> None:
    assert shown_locality(AvailableNumber(phone_number="+14155550100", locality=UNSET)) == "-"
    assert shown_locality(AvailableNumber(phone_number="+1", locality="Oakland")) == "OAKLAND"


class Countries(Hooks):
    """Reads each attempt's search, and each search's end, as a typed hook would."""

    def __init__(self) -> None:
        self.countries: list[str] = []
        self.stops: list[StopReason | None] = []

    def request_sent(self, attempt: AttemptInfo) -> None:
        self.countries.append(attempt.search.country_code)

    def search_finished(self, search: SearchInfo) -> None:
        self.stops.append(search.stop_reason)


async def test_with_options_takes_timeouts_and_hooks_see_typed_searches(
    make_client: MakeClient,
) -> None:
    hook = Countries()
    client = make_client(
        lambda request: httpx.Response(200, json=numbers_body(["+14155550100"])), hooks=[hook]
    )
    derived = client.with_options(timeout=Timeouts(connect=1.0, read=2.0, pool=1.0))
    found = await derived.search("GB", limit=1)
    assert [number.phone_number for number in found] == ["+14155550100"]
    assert hook.countries == ["GB"]
    assert hook.stops == ["limit"]


def test_the_transport_names_are_a_public_type() -> None:
    chosen: list[Transport] = ["httpx", "httpx2", "aiohttp"]
    assert len(set(chosen)) == 3


async def test_the_sandbox_client_takes_the_typed_client_options() -> None:
    hook = Countries()
    async with sandbox_client(
        create_app(),
        timeout=Timeouts(read=2.0),
        hooks=[hook],
        max_retries=None,  # None where NumbersClient takes None: mypy refused it for a while
        retry_policy=None,
        retry_initial_delay=None,
    ) as client:
        assert len(await client.search("US", limit=3)) == 3
    assert hook.countries == ["US"]


# Calls a typed service could write that the client refuses at run time: mypy must refuse each
# too, on the line marked with the error code expected (a keyword typed Any would let them by).
REFUSED = """\
from numbers_async import NumbersClient, Timeouts
from numbers_async.sandbox import sandbox_client


async def calls(client: NumbersClient) -> None:
    sandbox_client(transport="aiohttp")  # E: call-arg
    sandbox_client(timeout="5")  # E: arg-type
    sandbox_client(hooks=[print])  # E: list-item
    client.with_options(api_key="other")  # E: call-arg
    client.with_options(timeout=Timeouts(read="2"))  # E: arg-type
    await client.search("US", areaCode="415")  # E: call-arg
"""


@pytest.mark.slow
def test_mypy_refuses_what_the_client_refuses(tmp_path: Path) -> None:
    """mypy --strict on REFUSED: one error on each marked line, of the code marked, none else."""
    source = tmp_path / "calls.py"
    source.write_text(REFUSED)
    report, _, _ = mypy.api.run(
        ["--strict", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(source)]
    )
    found = sorted(
        (int(line.split(":")[1]), line.rsplit("[", 1)[1].rstrip("]"))
        for line in report.splitlines()
        if ": error: " in line
    )
    expected = sorted(
        (number, line.rsplit("# E: ", 1)[1])
        for number, line in enumerate(REFUSED.splitlines(), start=1)
        if "# E: " in line
    )
    assert found == expected, report
