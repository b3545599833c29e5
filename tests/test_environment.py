"""The environment a client's own pools read, or do not: a proxy it names (they connect
directly: a client built on one warns, naming the variable and the way through), and the CA
bundle of SSL_CERT_FILE (README, "Connections")."""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
import pytest
from cli_support import clean_env, run_main
from helpers import API_KEY

from numbers_async import InvalidRequestError, NumbersClient
from numbers_async._transports import shared_ssl_context

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
        # NO_PROXY forms as httpx reads them (urllib's differ): a port, "*" among others, a
        # scheme, and a leading dot meaning subdomains only
        (
            {"HTTPS_PROXY": PROXY, "NO_PROXY": "numbers.test:8443"},
            "https://numbers.test:8443",
            None,
        ),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "localhost,*"}, "https://numbers.test", None),
        ({"HTTPS_PROXY": PROXY, "NO_PROXY": "https://numbers.test"}, "https://numbers.test", None),
        (
            {"HTTPS_PROXY": PROXY, "NO_PROXY": ".numbers.test"},
            "https://numbers.test",
            "HTTPS_PROXY",
        ),
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


@pytest.mark.parametrize("content", [None, b"not a certificate\n"], ids=["missing", "garbage"])
def test_a_ca_file_that_cannot_be_loaded_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes | None
) -> None:
    """SSL_CERT_FILE naming no file, or one with no certificate: InvalidRequestError naming
    the variable and the path (a raw FileNotFoundError or ssl.SSLError escaped)."""
    bundle = tmp_path / "ca.pem"
    if content is not None:
        bundle.write_bytes(content)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    shared_ssl_context.cache_clear()  # read once per process: this test reads it again
    try:
        with pytest.raises(InvalidRequestError) as caught:
            NumbersClient(API_KEY, base_url="https://numbers.test")
    finally:
        shared_ssl_context.cache_clear()
    assert caught.value.argument == "SSL_CERT_FILE"
    assert str(bundle) in str(caught.value)
