"""Running the numbers-async command: as a user would (a subprocess), or in this process
through ``main`` when what is checked is the command's output, not the process around it."""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from unittest import mock

from numbers_async.cli import main

COMMAND = [sys.executable, "-m", "numbers_async.cli"]
# Seconds any one run of the command may take: well within the test's own 60 s timeout, so a
# hang fails with the subprocess named rather than a test stack.
TIMEOUT = 30


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the client's variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBERS_")}
    return {**env, **extra}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``numbers-async args...`` with stdout and stderr captured apart (neither a terminal)."""
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=clean_env() if env is None else env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``numbers-async args...`` run by ``main`` in this process, as ``run_cli`` runs it in a
    subprocess (same environment, stdout and stderr captured apart, neither a terminal) but
    without an interpreter start-up per run: the exit status argparse raises is returned."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, clean_env() if env is None else env, clear=True),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            status = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors and --help; as the interpreter
            code = exit_.code  # maps them: None is 0, a message is 1
            status = 0 if code is None else code if isinstance(code, int) else 1
    return subprocess.CompletedProcess(list(args), status, out.getvalue(), err.getvalue())


def run_cli_with_terminal_stderr(*args: str, stdout_too: bool = False) -> tuple[int, str, str]:
    """``numbers-async args...`` with stderr on a pseudo-terminal: (status, stdout, stderr);
    ``stdout_too`` puts stdout on the same terminal (then all is in the third item)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [*COMMAND, *args],
            stdout=terminal if stdout_too else subprocess.PIPE,
            stderr=terminal,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
            text=True,
        )
        os.close(terminal)
        try:
            if stdout_too:  # read the terminal as it fills, else the process blocks on it
                screen = _read_until_closed(controller)
                return process.wait(timeout=TIMEOUT), "", screen
            stdout, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return process.returncode, stdout, _read_until_closed(controller)
    finally:
        os.close(controller)


def _read_until_closed(controller: int) -> str:
    """All a pseudo-terminal's other side writes until it is closed, within TIMEOUT."""
    chunks = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal side is closed once the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


@contextmanager
def served_sandbox(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``numbers-async sandbox --port 0 args...`` running: yields its base URL and process."""
    process = subprocess.Popen(
        [*COMMAND, "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
    )
    try:
        banner = read_line(process)
        assert banner.startswith("Sandbox API serving at http://127.0.0.1:"), banner
        yield banner.split()[4], process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=TIMEOUT)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def read_line(process: subprocess.Popen[str]) -> str:
    """The next line ``process`` writes to stdout, failing if none comes within TIMEOUT."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    assert ready, f"no output from {process.args!r} within {TIMEOUT} s"
    return process.stdout.readline()
