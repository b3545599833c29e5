"""The public types as a typed service writes against them: `make lint` checks this file with
`mypy --strict` (no cast, no ignore), and the tests run the same code. Each was a mypy error
for a user: a Timeouts given to with_options, attempt.search read without a None test, a
Transport or StopReason only importable from private modules, an optional field narrowed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
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
