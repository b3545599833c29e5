"""A proxy the environment names: the pools a client owns connect directly (README,
"Connections"), so a client built on one warns, naming the variable and the way through."""

from __future__ import annotations

import warnings

import httpx
import pytest
from cli_support import clean_env, run_main
from helpers import API_KEY

from numbers_async import NumbersClient

PROXY = "http://127.0.0.1:9"


def runtime_warnings(**options: object) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NumbersClient(API_KEY, **options)  # type: ignore[arg-type]
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize(
    ("variables", "base_url", "named"),
    [
        ({"HTTPS_PROXY": PROXY}, "https://numbers.test", "HTTPS_PROXY"),
        ({"https_proxy": PROXY}, "https://numbers.test", "HTTPS_PROXY"),
        ({"all_proxy": PROXY}, "http://numbers.test", "ALL_PROXY"),
        ({"HTTP_PROXY": PROXY, "ALL_PROXY": PROXY}, "http://numbers.test", "HTTP_PROXY"),
        ({"HTTP_PROXY": PROXY}, "https://numbers.test", None),  # another scheme's
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "numbers.test"}, "https://numbers.test", None),
        ({"HTTPS_PROXY": PROXY, "no_proxy": ".test"}, "https://api.numbers.test", None),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "*"}, "https://numbers.test", None),
        ({}, "https://numbers.test", None),
    ],
)
def test_an_owned_pool_warns_when_the_environment_names_a_proxy(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], base_url: str, named: str | None
) -> None:
    """A proxy for the base URL's scheme (or ALL_PROXY), unless NO_PROXY covers the host: one
    RuntimeWarning naming the variable and http_client= (a service behind an egress proxy
    only saw connection errors, the variable silently unused)."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    found = runtime_warnings(base_url=base_url)
    if named is None:
        assert found == []
    else:
        (message,) = found
        assert message.startswith(f"{named} names a proxy for {base_url}")
        assert "pass http_client=httpx.AsyncClient()" in message


def test_a_callers_client_reads_the_proxy_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a caller's httpx client (which reads the variables), nothing to warn about."""
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    assert runtime_warnings(base_url="https://numbers.test", http_client=httpx.AsyncClient()) == []


def test_the_command_says_so_in_one_line() -> None:
    """The search command prints the notice as one warning line, not Python's warning."""
    env = clean_env(HTTPS_PROXY=PROXY, NUMBERS_API_KEY="sk_test_proxy")
    result = run_main(
        "search", "US", "--base-url", "https://127.0.0.1:9", "--timeout", "1", env=env
    )
    first, *_ = result.stderr.splitlines()
    assert first.startswith("numbers-async: warning: HTTPS_PROXY names a proxy for https://")
    assert "RuntimeWarning" not in result.stderr
