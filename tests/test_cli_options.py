"""The search command's limits and messages: --timeout, --deadline, repeated --features, the
API's 400, a bad environment variable, --help, and Ctrl+C keeping what was found."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable

import pytest
from cli_support import COMMAND, TIMEOUT, clean_env, run_main
from helpers import until
from loopback import LoopbackServer, serve

from numbers_async import NumbersClient, RetryPolicy
from numbers_async.cli._args import API_ERROR, FEATURE_NAMES, INTERRUPTED, SUCCESS, USAGE_ERROR
from numbers_async.cli._interrupt import SAME_PRESS, ctrl_c_cancels, listen_again
from numbers_async.sandbox import FEATURES

CLIENT_DEFAULTS = inspect.signature(NumbersClient).parameters
DEFAULT_TIMEOUT = CLIENT_DEFAULTS["timeout"].default
ATTEMPTS = RetryPolicy().max_retries + 1  # the default policy: the first try and its retries


async def run_against(
    server: LoopbackServer,
    *args: str,
    meanwhile: Callable[[asyncio.subprocess.Process], Awaitable[None]] | None = None,
) -> tuple[int, str, str, float]:
    """``numbers-async search US args...`` against ``server``: (status, stdout, stderr, seconds);
    ``meanwhile`` runs once it has started (to signal it, say)."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *COMMAND,
        *("search", "US", "--base-url", server.base_url, "--api-key", "k", *args),
        env=clean_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            if meanwhile is not None:
                await meanwhile(process)
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode(), time.perf_counter() - started


async def test_timeout_bounds_each_request() -> None:
    """--timeout 0.2 against a server that never answers: every attempt times out, exit 1, long
    before the client's default timeout would have ended even one attempt."""
    async with serve(LoopbackServer(default="stall")) as server:
        status, out, err, seconds = await run_against(server, "--timeout", "0.2")
        requests = server.requests
    assert (status, out) == (API_ERROR, "")
    assert f"error: ReadTimeout after {ATTEMPTS} attempt" in err
    assert "fix: the API did not answer in time; allow more with --timeout SECONDS" in err
    assert requests == ATTEMPTS
    assert seconds < DEFAULT_TIMEOUT


async def test_deadline_ends_the_search_and_keeps_what_was_found() -> None:
    """--deadline 1: the first page arrives, the next ones stall; after the deadline the table
    holds the first page's numbers and stderr says why the search ended, exit 1."""
    async with serve(LoopbackServer(["ok"], default="stall")) as server:
        status, out, err, seconds = await run_against(server, "--limit", "300", "--deadline", "1")
    heading, *rows = out.splitlines()
    assert status == API_ERROR
    assert heading.startswith("PHONE NUMBER")
    assert len(rows) == 50
    assert "passed its --deadline of 1 s" in err
    assert "50 numbers were found before the deadline" in err
    assert seconds < DEFAULT_TIMEOUT


@pytest.mark.parametrize("invalid", [["US", "--features", "sms,fooo"], ["ZZ"]])
def test_an_api_400_exits_2_like_other_invalid_input(invalid: list[str]) -> None:
    """The API refusing the input (an unknown feature, a country it lacks) is bad input: exit 2,
    with the API's message and fix."""
    result = run_main("search", *invalid, "--sandbox")
    assert (result.returncode, result.stdout) == (USAGE_ERROR, "")
    assert "error: 400 " in result.stderr
    assert "fix: " in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("NUMBERS_BASE_URL", "ftp://numbers.test"), ("NUMBERS_API_KEY", "sk with spaces")],
)
def test_a_bad_environment_variable_is_named_not_an_option_never_given(
    variable: str, value: str
) -> None:
    """A malformed NUMBERS_BASE_URL or NUMBERS_API_KEY is blamed on the variable, exit 2."""
    env = clean_env(NUMBERS_BASE_URL="http://127.0.0.1:9", NUMBERS_API_KEY="k")
    env[variable] = value
    result = run_main("search", "US", env=env)
    assert (result.returncode, result.stdout) == (USAGE_ERROR, "")
    assert f"error: environment variable {variable}: " in result.stderr
    assert "--base-url" not in result.stderr
    assert "--api-key" not in result.stderr
    assert value not in result.stderr or variable == "NUMBERS_BASE_URL"  # a key is never shown


def test_repeated_features_combine() -> None:
    """--features sms --features voice finds exactly what --features sms,voice finds."""
    common = ["search", "US", "--limit", "30", "--format", "json", "--sandbox"]
    repeated = run_main(*common, "--features", "sms", "--features", "voice")
    joined = run_main(*common, "--features", "sms,voice")
    assert repeated.returncode == joined.returncode == SUCCESS
    assert repeated.stdout == joined.stdout
    numbers = json.loads(repeated.stdout)
    assert len(numbers) == 30
    assert all({"sms", "voice"} <= set(number["features"]) for number in numbers)


def test_an_invalid_feature_is_named_once() -> None:
    """The message names the option once: no doubled "--features: features:"."""
    result = run_main("search", "US", "--features", "sms,,voice", "--sandbox")
    assert result.returncode == USAGE_ERROR
    assert "error: argument --features: each name must be" in result.stderr
    assert "features: features" not in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--apikey=sk_live_SECRETKEY123456"], "--apikey"),
        (["--apikey", "sk_live_SECRETKEY123456"], "--apikey, 1 value"),
        (["-ksk_live_SECRETKEY123456"], "-k"),
        (["sk_live_SECRETKEY123456", "sk_live_SECRETKEY123456"], "2 values"),
    ],
)
def test_unknown_arguments_are_named_without_their_values(args: list[str], named: str) -> None:
    """A mistyped option carrying the key: status 2, the unknown options named, the values
    only counted (argparse repeated them: "unrecognized arguments: --apikey=sk_live_...")."""
    result = run_main("search", "US", *args)
    assert result.returncode == USAGE_ERROR
    assert result.stderr.endswith(f"error: unrecognized arguments: {named} (values not repeated)\n")
    assert "SECRET" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["search", "US", "--limit", "sk_live_SECRETKEY123456"],
        ["search", "US", "--timeout", "sk_live_SECRETKEY123456"],
        ["search", "US", "--area-code", "sk_live_SECRETKEY123456", "--sandbox"],
        ["search", "sk_live_SECRETKEY123456", "--sandbox"],
        ["sandbox", "--seed", "sk_live_SECRETKEY123456"],
        ["sandbox", "--port", "sk_live_SECRETKEY123456"],
        ["sandbox", "--host", "sk_live_SECRETKEY123456"],
    ],
)
def test_the_key_given_as_an_options_value_is_not_repeated(args: list[str]) -> None:
    """The key typed where a number, a filter, the country or a host goes: status 2, the option
    named, the value's length given instead of the value (each message quoted it: "got
    'sk_...'")."""
    result = run_main(*args)
    assert result.returncode == USAGE_ERROR
    assert result.stderr.endswith("a value of 23 characters (not repeated)\n")
    assert "SECRET" not in result.stderr.upper()


def test_the_key_set_as_the_base_url_is_not_repeated() -> None:
    """The key in NUMBERS_BASE_URL (the two variables swapped): the variable named, its value's
    length given instead of the value."""
    env = {**clean_env(), "NUMBERS_BASE_URL": "sk_live_SECRETKEY123456", "NUMBERS_API_KEY": "x"}
    result = run_main("search", "US", env=env)
    assert result.returncode == USAGE_ERROR
    assert "environment variable NUMBERS_BASE_URL: " in result.stderr
    assert result.stderr.endswith("a value of 23 characters (not repeated)\n")
    assert "SECRET" not in result.stderr.upper()


def test_a_short_wrong_value_is_repeated() -> None:
    """A typo is still quoted: nothing as long as a key is repeated, anything shorter is."""
    result = run_main("search", "US", "--limit", "1O")
    assert result.returncode == USAGE_ERROR
    assert result.stderr.endswith("argument --limit: must be a number 1 or more, got '1O'\n")


def test_the_key_given_where_a_command_goes_is_not_repeated() -> None:
    """``--api-key KEY search US`` (the option before the subcommand): KEY is read as the
    command, refused without being repeated (argparse quoted it: "invalid choice: 'sk_...'"),
    the choices named, status 2."""
    result = run_main("--api-key", "sk_live_SECRETKEY123456", "search", "US")
    assert result.returncode == USAGE_ERROR
    assert "argument COMMAND: invalid choice (choose from 'search', 'sandbox')" in result.stderr
    assert "SECRET" not in result.stderr


def test_an_ambiguous_abbreviation_is_named_without_its_value() -> None:
    """``--a=KEY`` could be --area-code or --api-key: status 2, the abbreviation and what it
    could match named, the value not repeated (argparse's message quoted ``--a=KEY``)."""
    result = run_main("search", "US", "--a=sk_live_SECRETKEY123456")
    assert result.returncode == USAGE_ERROR
    assert "error: ambiguous option: --a could match --area-code, --api-key" in result.stderr
    assert "SECRET" not in result.stderr


def test_help_lists_the_feature_names_and_the_exit_statuses() -> None:
    """search --help names every feature and every exit status; the names are the sandbox's."""
    result = run_main("search", "--help")
    assert result.returncode == SUCCESS
    help_text = " ".join(result.stdout.split())
    assert f"names: {', '.join(FEATURE_NAMES)}" in help_text
    assert FEATURE_NAMES == FEATURES
    assert "exit status:" in help_text
    for code in (SUCCESS, API_ERROR, USAGE_ERROR, INTERRUPTED):
        assert f" {code} " in help_text


def read_until(fd: int, marker: bytes) -> bytes:
    """Read ``fd`` until ``marker`` shows up (or fail after TIMEOUT seconds)."""
    seen = b""
    deadline = time.monotonic() + TIMEOUT
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"{marker!r} not seen within {TIMEOUT} s; got {seen!r}"
        seen += os.read(fd, 65536)
    return seen


def drain(fd: int) -> bytes:
    """What is left to read on a pseudo-terminal whose other side has closed."""
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal side is closed once the process is gone
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.parametrize("output", ["table", "json"])
async def test_ctrl_c_clears_the_progress_bar_and_prints_what_was_found(output: str) -> None:
    """Ctrl+C while later pages stall: the bar is erased, the first page's numbers are written
    in the chosen format, stderr says so, exit 130."""
    controller, terminal = pty.openpty()
    try:
        async with serve(LoopbackServer(["ok"], default="stall")) as server:
            process = await asyncio.create_subprocess_exec(
                *COMMAND,
                *("search", "US", "--limit", "300", "--format", output),
                *("--base-url", server.base_url, "--api-key", "k"),
                env=clean_env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=terminal,
            )
            os.close(terminal)
            terminal = -1
            try:
                shown = await asyncio.to_thread(read_until, controller, b"/300 numbers")
                process.send_signal(signal.SIGINT)
                async with asyncio.timeout(TIMEOUT):
                    out, _ = await process.communicate()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        shown += drain(controller)
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    stderr = shown.decode()
    assert process.returncode == INTERRUPTED
    bar_end = stderr.rindex("/300 numbers")
    assert "\r\x1b[K" in stderr[bar_end:]  # erased after it was last drawn
    assert "numbers-async: interrupted" in stderr
    assert "50 numbers were found before the interruption" in stderr
    if output == "json":
        assert len(json.loads(out)) == 50
    else:
        assert len(out.decode().splitlines()) == 1 + 50


async def test_presses_of_ctrl_c_in_a_row_still_write_what_was_found() -> None:
    """Ctrl+C pressed ten times in 20 ms is one press: the table of the numbers found is
    written, stderr says so, exit 130, no traceback (asyncio.run's handler raised
    KeyboardInterrupt at the second, wherever the code was: in its shutdown, a traceback and
    no table; or the process ended by SIGINT, status -2)."""
    async with serve(LoopbackServer(["ok"], default="stall")) as server:

        async def press(process: asyncio.subprocess.Process) -> None:
            assert await until(lambda: server.requests > 1, within=TIMEOUT)  # pages stall
            for _ in range(10):  # apart: signals sent at once arrive as one
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    process.send_signal(signal.SIGINT)
                await asyncio.sleep(0.002)

        status, out, err, _ = await run_against(server, "--limit", "300", meanwhile=press)
    assert status == INTERRUPTED
    assert "Traceback" not in err
    assert "numbers-async: interrupted" in err
    assert "50 numbers were found before the interruption" in err
    assert len(out.splitlines()) == 1 + 50


async def test_a_later_ctrl_c_quits_at_once_while_writing_blocks() -> None:
    """A press more than SAME_PRESS after the first ends the process at once (status 130),
    even when writing what was found blocks: a table of 3,000 numbers on a pipe nobody reads."""
    async with serve(LoopbackServer([], default="ok")) as server:
        process = subprocess.Popen(  # noqa: ASYNC220 (a pipe asyncio would drain)
            [*COMMAND, "search", "US", "--limit", "3000"],
            env={**clean_env(), "NUMBERS_BASE_URL": server.base_url, "NUMBERS_API_KEY": "k"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,  # never read: the table's write fills the pipe and blocks
            stderr=subprocess.DEVNULL,
        )
        try:
            assert await until(lambda: server.requests >= 3000 // 50, within=TIMEOUT)
            await asyncio.sleep(0.3)  # the table is being written, blocked
            process.send_signal(signal.SIGINT)
            await asyncio.sleep(SAME_PRESS + 0.2)
            assert process.poll() is None  # still blocked: the first press waits for the write
            process.send_signal(signal.SIGINT)
            assert await until(lambda: process.poll() is not None, within=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            assert process.stdout is not None
            process.stdout.close()
    assert process.returncode == INTERRUPTED


async def test_ctrl_c_is_heard_again_by_a_command_run_after_an_interrupted_search() -> None:
    """After a press, Ctrl+C is ignored while the process ends (a press during its shutdown
    ended it by SIGINT); a process running another command (main() again) gets its handler
    back (it stayed deaf to Ctrl+C)."""
    before = signal.getsignal(signal.SIGINT)

    async def interrupted() -> None:
        task = asyncio.current_task()
        assert task is not None
        with ctrl_c_cancels(task):
            signal.raise_signal(signal.SIGINT)
            await asyncio.sleep(5)

    try:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.create_task(interrupted())
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        listen_again()
        assert signal.getsignal(signal.SIGINT) is before
    finally:
        signal.signal(signal.SIGINT, before)
