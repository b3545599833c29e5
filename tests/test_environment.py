"""The environment a client's own pools read: the proxy it names for the base URL (an http://
one; another warns, naming the variable and the way through), and the CA bundle of
SSL_CERT_FILE (README, "Connections"). Searches through a proxy: test_proxy.py."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import httpx
import pytest
from cli_support import clean_env, run_main
from helpers import API_KEY
from secret_support import renderings

from numbers_async import InvalidRequestError, NumbersClient
from numbers_async._transports import environment_proxy, shared_ssl_context

PROXY = "http://127.0.0.1:9"


def runtime_warnings(**options: object) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NumbersClient(API_KEY, **options)  # type: ignore[arg-type]
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


# Each variable names a proxy of its own, so the one used tells which was read.
PORTS = {"HTTPS_PROXY": 1, "HTTP_PROXY": 2, "ALL_PROXY": 3}


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
        # loopback: no proxy can reach it (the command line's served sandbox, a local gateway)
        ({"HTTP_PROXY": PROXY}, "http://127.0.0.1:8080", None),
        ({"HTTP_PROXY": PROXY}, "http://127.1.2.3", None),
        ({"HTTP_PROXY": PROXY}, "http://localhost:8080", None),
        ({"HTTPS_PROXY": PROXY}, "https://[::1]:8443", None),
        ({"ALL_PROXY": PROXY}, "http://api.localhost", None),
    ],
)
def test_an_owned_pool_goes_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], base_url: str, named: str | None
) -> None:
    """A proxy for the base URL's scheme (or ALL_PROXY), unless NO_PROXY covers the host or
    the host is loopback, as an httpx.AsyncClient() reads them, and no warning (its pools
    connected directly: behind an egress proxy a service only saw connection errors)."""
    for name, value in variables.items():
        port = PORTS.get(name.upper())
        monkeypatch.setenv(name, value if port is None else f"http://proxy.test:{port}")
    proxy = environment_proxy(base_url)
    if named is None:
        assert proxy is None
    else:
        assert proxy is not None
        assert proxy.url == httpx.URL(f"http://proxy.test:{PORTS[named]}")
    assert runtime_warnings(base_url=base_url) == []


@pytest.mark.parametrize(
    ("variable", "scheme"),
    [("HTTPS_PROXY", "socks5"), ("HTTPS_PROXY", "socks5h"), ("https_proxy", "socks5")],
)
def test_a_socks_proxy_warns_and_is_not_used(
    monkeypatch: pytest.MonkeyPatch, variable: str, scheme: str
) -> None:
    """The owned pools use http:// and https:// proxies only: a SOCKS one is left out, with one
    RuntimeWarning naming the variable as the environment spells it and the way through it (a
    caller's httpx client)."""
    monkeypatch.setenv(variable, f"{scheme}://proxy.test:1080")
    (message,) = runtime_warnings(base_url="https://numbers.test")
    assert message.startswith(f"{variable} names a {scheme} proxy for https://numbers.test")
    assert message.endswith(
        "pass http_client=httpx.AsyncClient() (it reads the proxy variables; SOCKS needs "
        "socksio installed)."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert environment_proxy("https://numbers.test") is None


# Proxy values no client can use, each with a password (kept out of the test's own locals:
# a traceback's locals, which the check below renders, include the frame that caught it).
UNUSABLE = {
    "unknown-scheme": "ftp://user:hunter22@proxy.test",
    "not-a-port": "http://user:hunter22@proxy.test:port",
    "no-host": "http://user:hunter22@",
}


@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_a_proxy_no_client_can_use_names_its_variable_never_its_value(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """An unknown scheme or no URL at all: InvalidRequestError naming the variable, as
    httpx.AsyncClient() refuses it; the value (it may hold a password) in no rendering of the
    error, its traceback's locals included."""
    monkeypatch.setenv("HTTPS_PROXY", UNUSABLE[kind])
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(API_KEY, base_url="https://numbers.test")
    assert caught.value.argument == "HTTPS_PROXY"
    assert str(caught.value).startswith("HTTPS_PROXY names a proxy for https://numbers.test")
    assert not [shown for shown in renderings(caught.value) if "hunter22" in shown]


def test_a_no_proxy_entry_no_client_can_read_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bracketed IPv6 address in NO_PROXY (httpx reads a bare one): InvalidRequestError naming
    NO_PROXY and the entry, not httpx's InvalidURL ("Invalid port: ':1]'")."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,[2001:db8::1]")
    with pytest.raises(InvalidRequestError) as caught:
        NumbersClient(API_KEY, base_url="https://numbers.test")
    assert caught.value.argument == "NO_PROXY"
    assert str(caught.value).startswith("NO_PROXY holds '[2001:db8::1]', which is no host name")


def test_a_callers_client_reads_the_proxy_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller's httpx client reads the variables itself (or not): no warning of ours, even
    for a proxy the owned pools leave out."""
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.test:1080")  # one the owned pools leave out
    http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport())  # needs no socksio
    assert runtime_warnings(base_url="https://numbers.test", http_client=http) == []


def test_the_command_says_so_in_one_line() -> None:
    """The search command prints the client's warning as one line, not Python's warning
    (0.0.0.0: not loopback to the client, refused at once by this machine)."""
    env = clean_env(HTTPS_PROXY="socks5://proxy.test:1080", NUMBERS_API_KEY="sk_test_proxy")
    result = run_main("search", "US", "--base-url", "https://0.0.0.0:9", "--timeout", "1", env=env)
    first, *_ = result.stderr.splitlines()
    assert first.startswith("numbers-async: warning: HTTPS_PROXY names a socks5 proxy for https://")
    assert "RuntimeWarning" not in result.stderr


# SSL_CERT_DIR values, as parts joined by os.pathsep (OpenSSL reads a list, as PATH): "dir" an
# existing folder, "file" a file, "none" nothing; whether a client is built with it.
CERT_DIRS = {
    "no-folder": (["none"], False),
    "a-file": (["file"], False),
    "a-list-naming-no-folder": (["none", "file", ""], False),
    "a-folder": (["dir"], True),
    "a-list-with-a-folder": (["none", "dir"], True),
    "a-folder-then-nothing": (["dir", ""], True),
}


@pytest.mark.parametrize("kind", list(CERT_DIRS))
def test_a_ca_folder_the_environment_names_must_be_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    """SSL_CERT_DIR naming no folder (one, or a list of them): InvalidRequestError naming the
    variable and its value, when the client is built (OpenSSL reads the folders only as it
    verifies: every search failed with a refused certificate, no CA trusted); naming at least
    one folder, a client."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"")
    parts, accepted = CERT_DIRS[kind]
    value = os.pathsep.join(str(tmp_path / part) if part else "" for part in parts)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", value)
    shared_ssl_context.cache_clear()  # read once per process: this test reads it again
    try:
        if accepted:
            NumbersClient(API_KEY, base_url="https://numbers.test")
            return
        with pytest.raises(InvalidRequestError) as caught:
            NumbersClient(API_KEY, base_url="https://numbers.test")
    finally:
        shared_ssl_context.cache_clear()
    assert caught.value.argument == "SSL_CERT_DIR"
    assert str(caught.value) == (
        f"SSL_CERT_DIR: {value!r} names no folder: no CA certificate would be trusted"
    )


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
