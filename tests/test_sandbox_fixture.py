"""The pytest plugin users opt into, and the facade searching the sandbox through it."""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path

import pytest

from numbers_async import (
    AuthenticationError,
    NumbersClient,
    PaymentRequiredError,
    ProviderError,
)
from numbers_async._pagination import PAGE_MAX
from numbers_async.sandbox import SandboxApp, SandboxClientOptions, sandbox_client
from numbers_async.sandbox._inventory import AREA_SIZE, country_inventory

pytest_plugins = ["numbers_async.testing", "pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"
FRESH_SANDBOX_TEST = """

def test_each_test_gets_a_fresh_sandbox(numbers_sandbox):
    assert numbers_sandbox.request_count == 0
    assert numbers_sandbox.faults.pending == ()
"""


def _readme_example() -> str:
    """The README's pytest example: the python block enabling the plugin."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (example,) = [block for block in blocks if "numbers_async.testing" in block]
    return str(example)


@pytest.mark.slow
def test_the_readme_example_passes_in_a_user_suite(pytester: pytest.Pytester) -> None:
    """The README's example, run as a user's suite enabling the plugin, passes, fixtures and all."""
    pytester.makepyfile(test_user=_readme_example() + FRESH_SANDBOX_TEST)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_mode=auto", timeout=45
    )
    result.assert_outcomes(passed=2)


async def test_search_pages_through_the_sandbox(
    numbers_client: NumbersClient, numbers_sandbox: SandboxApp
) -> None:
    """Two pages and a part come from three requests of a full page each, all distinct and
    matching."""
    limit = 2 * PAGE_MAX + 20
    numbers = await numbers_client.search("US", features=["sms", "voice"], limit=limit)
    assert len({n.phone_number for n in numbers}) == limit
    assert all({"sms", "voice"} <= set(n.features or []) for n in numbers)
    assert [int(r.params["limit"]) for r in numbers_sandbox.requests] == [PAGE_MAX] * 3
    assert (numbers.stop_reason, numbers.exhausted) == ("limit", False)


async def test_provider_errors_are_retried_until_they_pass(
    numbers_client: NumbersClient, numbers_sandbox: SandboxApp
) -> None:
    """Two scripted 502s then success: the search succeeds after three requests."""
    numbers_sandbox.faults.script(502, 502)
    numbers = await numbers_client.search("GB", limit=5)
    assert len(numbers) == 5
    assert [r.status for r in numbers_sandbox.requests] == [502, 502, 200]


async def test_a_persistent_provider_error_surfaces_with_its_fields(
    numbers_client: NumbersClient, numbers_sandbox: SandboxApp
) -> None:
    """fail_rate=1 exhausts the retries; ProviderError carries provider, code and tracking id."""
    numbers_sandbox.faults.fail_rate = 1.0
    with pytest.raises(ProviderError) as caught:
        await numbers_client.search("DE", limit=5)
    error = caught.value
    assert error.attempts == 3
    assert error.provider
    assert error.provider_code
    assert (error.tracking_id or "").startswith("trk_")


async def test_quota_exhaustion_keeps_the_numbers_already_found(
    numbers_client: NumbersClient, numbers_sandbox: SandboxApp
) -> None:
    """After the quota, 402 is PaymentRequiredError, with earlier pages as partial_numbers."""
    numbers_sandbox.faults.quota = 1
    with pytest.raises(PaymentRequiredError) as caught:
        await numbers_client.search("FR", limit=2 * PAGE_MAX + 20)
    assert caught.value.code == "usage_limit_exceeded"
    assert len(caught.value.partial_numbers) == PAGE_MAX


async def test_a_wrong_key_is_an_authentication_error(numbers_sandbox: SandboxApp) -> None:
    """A client with another key gets AuthenticationError, sent once."""
    client = sandbox_client(numbers_sandbox, api_key="not-the-key")
    with pytest.raises(AuthenticationError):
        await client.search("US")
    assert numbers_sandbox.request_count == 1


def test_the_sandbox_client_takes_every_client_option_typed_as_the_client_types_it() -> None:
    """SandboxClientOptions repeats NumbersClient's options but the server's and the pool's:
    an option added to or retyped in NumbersClient and not there fails here, not in a user's
    mypy run."""
    own = {"self", "base_url", "http_client", "transport"}
    client_options = {
        name: parameter.annotation
        for name, parameter in inspect.signature(NumbersClient.__init__).parameters.items()
        if name not in own
    }
    sandbox_options = {
        name: hint.__forward_arg__  # TypedDict keeps each annotation string as a ForwardRef
        for name, hint in SandboxClientOptions.__annotations__.items()
    }
    assert sandbox_options == client_options


async def test_a_huge_search_in_one_area_code_ends_with_what_exists(
    numbers_client: NumbersClient,
) -> None:
    """Asking 100,000 numbers of one area code ends within seconds with nearly its whole stock,
    and says the inventory ran out."""
    started = time.perf_counter()
    numbers = await numbers_client.search("US", area_code="702", limit=100_000)
    stock = {n.phone_number for n in country_inventory(0, "US").matching("702", ())}
    found = {n.phone_number for n in numbers}
    assert found <= stock
    assert AREA_SIZE[0] <= len(stock) <= AREA_SIZE[1]
    assert len(found) >= 0.97 * len(stock)
    assert numbers.exhausted
    assert time.perf_counter() - started < 10


async def test_iter_search_streams_numbers_in_place(numbers_client: NumbersClient) -> None:
    """iter_search yields local numbers with the locality and region of their area code."""
    numbers = [n async for n in numbers_client.iter_search("AU", area_code="3", limit=60)]
    assert len(numbers) == 60
    assert {(n.locality, n.administrative_area) for n in numbers} == {("Melbourne", "VIC")}
