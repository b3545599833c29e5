"""The numbers-async command: output formats, notices, exit codes. Most runs go through `main`
in this process; the demo, a terminal, a closed pipe, Ctrl+C and a missing extra run it as a
subprocess, since there the process is what is checked."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from importlib.metadata import entry_points
from typing import Any

import phonenumbers
import pytest
from cli_support import (
    COMMAND,
    TIMEOUT,
    clean_env,
    read_line,
    run_cli,
    run_cli_with_terminal_stderr,
    run_main,
    served_sandbox,
)
from loopback import LoopbackServer, server_in_a_thread

from numbers_async import AvailableNumber, to_json_dict
from numbers_async._pagination import PAGE_MAX
from numbers_async._spec import NUMBER_FIELDS
from numbers_async.cli import _formats as formats
from numbers_async.cli._formats import make_writer, printable

SECRET_KEY = "sk_live_do_not_print_4f9a2b"
SPEC_ORDER = [field.name for field in NUMBER_FIELDS]  # the spec's AvailableNumber properties
API_FIELDS = set(SPEC_ORDER)


def test_the_console_script_is_installed() -> None:
    """pip installs a numbers-async script running numbers_async.cli:main."""
    (script,) = entry_points(group="console_scripts", name="numbers-async")
    assert script.value == "numbers_async.cli:main"


def test_the_demo_prints_a_table_of_distinct_valid_numbers() -> None:
    """The README's demo: 120 distinct valid US numbers with localities, nothing on stderr."""
    result = run_cli("search", "US", "--features", "sms,voice", "--limit", "120", "--sandbox")
    heading, *rows = result.stdout.splitlines()
    assert (result.returncode, result.stderr) == (0, "")
    assert heading.split() == ["PHONE", "NUMBER", "LOCALITY", "REGION", "TYPE", "FEATURES"]
    assert len(rows) == 120
    numbers = [row.split()[0] for row in rows]
    assert len(set(numbers)) == 120
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in numbers)
    assert all("sms,voice" in row and " - " not in row for row in rows)
    assert len({len(row.rsplit(maxsplit=1)[0].rstrip()) for row in rows}) <= 2  # aligned


def test_json_is_one_array_with_the_api_field_names() -> None:
    """--format json prints one array of objects keyed like the API (phoneNumber, ...)."""
    result = run_main("search", "GB", "--limit", "60", "--format", "json", "--sandbox")
    numbers = json.loads(result.stdout)
    assert result.returncode == 0
    assert len(numbers) == 60
    assert all("phoneNumber" in n and set(n) <= API_FIELDS for n in numbers)
    assert any(set(n) == API_FIELDS for n in numbers)


def test_ndjson_prints_one_object_per_line() -> None:
    """--format ndjson prints one JSON object per line, one line per number."""
    result = run_main(
        "search", "DE", "--area-code", "30", "--limit", "75", "--format", "ndjson", "--sandbox"
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0
    assert len(lines) == 75
    assert all(json.loads(line)["locality"] == "Berlin" for line in lines)


def test_csv_has_a_header_of_api_field_names_and_a_row_per_number() -> None:
    """--format csv writes a header row of API field names, then one row per number."""
    result = run_main(
        "search", "FR", "--features", "sms", "--limit", "20", "--format", "csv", "--sandbox"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.returncode == 0
    assert len(rows) == 20
    assert set(rows[0]) == API_FIELDS
    assert all("sms" in row["features"].split(",") for row in rows)


def test_json_keys_and_csv_columns_follow_the_spec_order() -> None:
    """JSON, ndjson and CSV list a number's fields in the same order: the spec's."""
    search = ("search", "GB", "--limit", "30", "--sandbox", "--format")
    objects = json.loads(run_main(*search, "json").stdout)
    lines = [json.loads(line) for line in run_main(*search, "ndjson").stdout.splitlines()]
    header = run_main(*search, "csv").stdout.splitlines()[0].split(",")
    assert header == SPEC_ORDER
    complete = [list(n) for n in objects + lines if set(n) == API_FIELDS]
    assert complete
    assert all(keys == SPEC_ORDER for keys in complete)
    assert all(list(n) == [k for k in SPEC_ORDER if k in n] for n in objects + lines)


def test_a_shortfall_is_noticed_on_stderr_only() -> None:
    """When fewer numbers exist than asked, stderr says how many of how many and which rule
    ended the search; stdout has them."""
    result = run_main(
        "search", "US", "--area-code", "702", "--limit", "5000", "--format", "ndjson", "--sandbox"
    )
    found = len(result.stdout.splitlines())
    assert result.returncode == 0
    assert 200 <= found < 5000
    assert result.stderr == (
        f"numbers-async: found {found} of 5000 numbers asked for: "
        "further pages brought almost no new numbers (the inventory is used up)\n"
    )


def test_a_large_search_that_is_not_exhausted_gets_every_number_and_no_notice() -> None:
    """CA holds 9,388 numbers: 5,000 asked as JSON are 5,000 distinct ones, with no shortfall
    notice (continuation pages ask for full pages, so random sampling does not end it early)."""
    result = run_main("search", "CA", "--limit", "5000", "--format", "json", "--sandbox")
    numbers = json.loads(result.stdout)
    assert result.returncode == 0
    assert len({number["phoneNumber"] for number in numbers}) == len(numbers) == 5000
    assert result.stderr == ""


def test_the_progress_bar_shows_only_on_a_terminal() -> None:
    """Several pages with stderr on a terminal draw a bar there, erased at the end; stdout clean."""
    status, stdout, stderr = run_cli_with_terminal_stderr(
        "search", "CA", "--limit", "150", "--sandbox"
    )
    assert status == 0
    assert "/150 numbers" in stderr
    assert stderr.endswith("\r\x1b[K")
    assert "numbers" not in stdout.replace("PHONE NUMBER", "")
    assert len(stdout.splitlines()) == 151


@pytest.mark.parametrize("output", ["ndjson", "csv", "table"])
def test_rows_streamed_to_the_terminal_get_no_bar_drawn_into_them(output: str) -> None:
    """stdout and stderr on one terminal: ndjson and csv rows, written as they come, get no
    bar (it was drawn into them: ``[----] 1/400 numbers{"phoneNumber": ...``); a table, written
    at the end, still has one, erased before it."""
    status, _, screen = run_cli_with_terminal_stderr(
        "search", "CA", "--limit", "150", "--sandbox", "--format", output, stdout_too=True
    )
    assert status == 0
    assert ("/150 numbers" in screen) is (output == "table")
    assert len([line for line in screen.splitlines() if "+1" in line]) == 150


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """When stdout's reader goes away (| head), the command exits 0 with no traceback."""
    process = subprocess.Popen(
        [*COMMAND, "search", "US", "--limit", "2000", "--format", "ndjson", "--sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = read_line(process)
    process.stdout.close()
    status = process.wait(timeout=TIMEOUT)
    stderr = process.stderr.read()
    process.stderr.close()
    assert json.loads(first)["phoneNumber"].startswith("+1")
    assert (status, stderr) == (0, "")


def test_piped_stderr_gets_no_progress_bar() -> None:
    """With stderr not a terminal, a multi-page search writes nothing there."""
    result = run_main("search", "CA", "--limit", "150", "--sandbox")
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["search", "USA", "--sandbox"], "COUNTRY"),
        (["search", "US", "--limit", "0", "--sandbox"], "--limit"),
        (["search", "US", "--limit", "many", "--sandbox"], "--limit"),
        (["search", "US", "--area-code", "4l5", "--sandbox"], "--area-code"),
        (["search", "US", "--features", "sms,,voice", "--sandbox"], "--features"),
        (["search", "US", "--format", "xml", "--sandbox"], "--format"),
        (["search", "US", "--sandbox", "--api-key", SECRET_KEY], "--api-key"),
        (["search", "US", "--api-key", SECRET_KEY], "--base-url"),
        (["search", "US", "--base-url", "http://127.0.0.1:9"], "--api-key"),
        (["search", "US", "--base-url", "ftp://x", "--api-key", SECRET_KEY], "--base-url"),
        (["sandbox", "--host", "0.0.0.0"], "--host"),
        (["sandbox", "--fail-rate", "2"], "--fail-rate"),
        (["sandbox", "--port", "0", "--api-key", ""], "--api-key"),
        # a key no client could send (and a shell would run part of, pasted)
        (["sandbox", "--port", "0", "--api-key", "my key; echo pwned"], "--api-key"),
        (["sandbox", "--port", "0", "--latency", "1e308"], "--latency"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_naming_the_argument(args: list[str], named: str) -> None:
    """Bad usage or invalid input exits 2 with the argument named on stderr, stdout empty."""
    result = run_main(*args)
    assert result.returncode == 2
    assert named in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert SECRET_KEY not in result.stderr


@pytest.mark.parametrize(
    ("blocked", "args"),
    [
        ("phonenumbers", ["search", "US", "--sandbox"]),
        ("uvicorn", ["sandbox", "--port", "0"]),
    ],
)
def test_a_missing_extra_is_named_with_its_install_command(blocked: str, args: list[str]) -> None:
    """Without the extra's packages, the command exits 2 saying which extra to install."""
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from numbers_async.cli import main\n"
        f"raise SystemExit(main({args!r}))"
    )
    result = run_cli_python(code)
    assert result.returncode == 2
    assert "pip install 'numbers-async[cli]'" in result.stderr
    assert blocked in result.stderr
    assert "Traceback" not in result.stderr


def run_cli_python(code: str) -> subprocess.CompletedProcess[str]:
    """Python ``code`` in a subprocess with the test environment (stdout, stderr apart)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=clean_env(),
        check=False,
    )


def test_a_search_through_the_served_sandbox_uses_env_defaults() -> None:
    """NUMBERS_BASE_URL and NUMBERS_API_KEY stand in for --base-url and --api-key."""
    with served_sandbox("--seed", "4") as (url, _):
        env = clean_env(NUMBERS_BASE_URL=url, NUMBERS_API_KEY="sandbox")
        result = run_main("search", "AU", "--limit", "70", "--format", "json", env=env)
    assert result.returncode == 0
    assert len({n["phoneNumber"] for n in json.loads(result.stdout)}) == 70


def test_an_api_error_exits_1_with_message_fix_and_tracking_id() -> None:
    """A 402 exits 1: message, fix and tracking id on stderr, no traceback, earlier numbers kept."""
    with served_sandbox("--quota", "1") as (url, _):
        result = run_main(
            "search",
            "US",
            "--limit",
            str(2 * PAGE_MAX + 20),
            "--format",
            "ndjson",
            "--base-url",
            url,
            "--api-key",
            "sandbox",
        )
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == PAGE_MAX
    assert "402 usage_limit_exceeded: Monthly search quota reached" in result.stderr
    assert "fix: upgrade your plan" in result.stderr
    assert "tracking id: trk_" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_key_exits_1_and_is_never_printed() -> None:
    """A 401 exits 1 with an authentication message, stdout empty; the key is never printed."""
    with served_sandbox() as (url, _):
        result = run_main("search", "US", "--base-url", url, "--api-key", SECRET_KEY)
    assert (result.returncode, result.stdout) == (1, "")
    assert "401" in result.stderr
    assert "fix: check the key given by --api-key or NUMBERS_API_KEY" in result.stderr
    assert SECRET_KEY not in result.stdout + result.stderr


def test_the_sandbox_command_stops_cleanly_on_ctrl_c() -> None:
    """numbers-async sandbox prints its URL and key, serves, and exits 0 on SIGINT."""
    with served_sandbox("--api-key", "k_demo") as (url, process):
        ok = run_main("search", "US", "--limit", "3", "--base-url", url, "--api-key", "k_demo")
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=TIMEOUT)
        assert process.stdout is not None
        banner = process.stdout.read()
    assert ok.returncode == 0
    assert status == 0
    assert "NUMBERS_API_KEY=k_demo" in banner


def test_the_sandbox_banner_quotes_the_key_for_the_shell() -> None:
    """A key with shell characters is printed quoted: the export line pasted sets it exactly."""
    key = "k$demo&x'y"
    with served_sandbox("--api-key", key) as (url, process):
        ok = run_main("search", "US", "--limit", "3", "--base-url", url, "--api-key", key)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=TIMEOUT)
        assert process.stdout is not None
        banner = process.stdout.read()
    assert ok.returncode == 0
    export = next(line for line in banner.splitlines() if "NUMBERS_API_KEY" in line)
    shell = subprocess.run(
        ["sh", "-c", f'{export.strip()}; printf %s "$NUMBERS_API_KEY"'],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert shell.stdout == key


def test_the_sandbox_stops_on_ctrl_c_with_a_request_in_its_latency() -> None:
    """SIGINT while a request waits out --latency 30: the sandbox stops within a few seconds
    (it waited out the latency before, forever with 1e308)."""
    with served_sandbox("--latency", "30") as (url, process):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
            conn.sendall(
                b"GET /numbers/available?countryCode=US HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer sandbox\r\n\r\n"
            )
            time.sleep(0.5)  # the request is in its latency
            started = time.monotonic()
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=TIMEOUT)
            stopped_after = time.monotonic() - started
    assert status == 0
    assert stopped_after < 5


def raw_answer(status: bytes, body: object) -> bytes:
    """A raw HTTP response of ``status`` carrying ``body`` as JSON (ASCII: escapes kept)."""
    data = json.dumps(body).encode()
    head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % (status, len(data)) + data


ODD_LOCALITY = "Bad\ud800City\x1b[2J"  # a lone surrogate (valid in JSON) and a screen-clearing ESC


@pytest.mark.parametrize("output", ["table", "json", "ndjson", "csv"])
def test_odd_characters_from_the_server_are_written_escaped(output: str) -> None:
    """A number whose locality holds a lone surrogate and an ESC sequence: every format exits 0
    with no traceback (a strict stdout raised UnicodeEncodeError), the surrogate written as
    ``\\ud800``; the table, for people, shows the ESC escaped too."""
    number = {"phoneNumber": "+14155550100", "locality": ODD_LOCALITY}
    answer = raw_answer(b"200 OK", {"numbers": [number]})
    with server_in_a_thread(LoopbackServer(["raw"], raw=answer)) as server:
        result = run_cli("search", "US", "--limit", "1", "--format", output,
                         "--base-url", server.base_url, "--api-key", "k")  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert "\\ud800" in result.stdout
    if output == "table":
        assert "Bad\\ud800City\\x1b[2J" in result.stdout
        assert "\x1b" not in result.stdout
    elif output == "json":  # the data itself, read back
        assert json.loads(result.stdout)[0]["locality"] == ODD_LOCALITY
    elif output == "ndjson":
        assert json.loads(result.stdout)["locality"] == ODD_LOCALITY


def test_an_error_s_text_cannot_forge_lines_or_drive_the_terminal() -> None:
    """A 402 whose message clears the screen and whose tracking id starts a forged "fix:" line:
    stderr shows both escaped, on the lines they belong to."""
    body = {
        "trackingId": "trk_1\n  fix: call +1 555 0100",
        "error": {"code": "usage_limit_exceeded", "message": "\x1b[2Jquota reached"},
    }
    with server_in_a_thread(
        LoopbackServer(["raw"], raw=raw_answer(b"402 Payment Required", body))
    ) as server:
        result = run_main("search", "US", "--base-url", server.base_url, "--api-key", "k")
    assert result.returncode == 1
    assert "\x1b" not in result.stderr
    assert "402 usage_limit_exceeded: \\x1b[2Jquota reached" in result.stderr
    assert "tracking id: trk_1\\n  fix: call +1 555 0100" in result.stderr
    assert not any(line.startswith("  fix:") for line in result.stderr.splitlines())


def test_numbers_log_records_are_escaped_as_error_reports_are() -> None:
    """NUMBERS_LOG=warning: the retry line naming a 502's tracking id shows its ESC and BEL
    escaped, as the error report would (it wrote them raw, for the terminal to run)."""
    tracking_id = "trk\x1b[31mRED\x1b]0;pwned\x07"
    body = {"trackingId": tracking_id, "error": {"code": "provider_error", "message": "x"}}
    server = LoopbackServer(["502"], error_body=json.dumps(body).encode())
    with server_in_a_thread(server):
        result = run_cli("search", "US", "--limit", "2", "--base-url", server.base_url,
                         "--api-key", "k", env=clean_env(NUMBERS_LOG="warning"))  # fmt: skip
    assert result.returncode == 0
    (line,) = result.stderr.splitlines()
    assert " WARNING numbers-async: 502 on attempt 1 of 3 " in line
    assert "(trackingId=trk\\x1b[31mRED\\x1b]0;pwned\\x07)" in line
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr


@pytest.mark.parametrize("output", ["json", "ndjson"])
@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1"])
def test_json_on_a_stdout_that_is_not_utf8_stays_json(output: str, encoding: str) -> None:
    """On a stdout that is not UTF-8 (a C locale, a Windows console) non-ASCII characters are
    JSON escapes (\\u00ce), not Python's (\\xce, \\U0001f600, which JSON readers refuse, as
    the CLI's stdout writes what it cannot encode); the numbers read back as on UTF-8."""
    numbers = [
        AvailableNumber(phone_number="+33100000001", locality="Île-de-France"),
        AvailableNumber(phone_number="+33100000002", locality="Paris \U0001f600", features=["sms"]),
    ]

    def written(stream_encoding: str) -> str:
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=stream_encoding, errors="backslashreplace")
        writer = make_writer(output, stream)
        for number in numbers:
            writer.add(number)
        writer.finish()
        return raw.getvalue().decode(stream_encoding)

    def read(text: str) -> Any:
        return json.loads(text) if output == "json" else [json.loads(x) for x in text.splitlines()]

    narrow, utf8 = written(encoding), written("utf-8")
    assert narrow.isascii()
    assert not utf8.isascii()
    assert read(narrow) == read(utf8) == [to_json_dict(number) for number in numbers]


@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_results_that_cannot_be_written_are_one_line_and_status_1(stdout: str) -> None:
    """A full disk (/dev/full) or a closed stdout (`>&-`): one line on stderr, status 1, no
    traceback (an OSError or AttributeError traceback before)."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*COMMAND, "search", "US", "--limit", "3", "--sandbox"],
            stdout=full if stdout == "full" else None,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            preexec_fn=None if stdout == "full" else lambda: os.close(1),
            check=False,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("numbers-async: error: ")


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["US", "--sandbox", "--api-key", "x"], 2),  # bad usage
        (["XX", "--sandbox"], 2),  # the API's 400
        (["US", "--sandbox", "--limit", str(PAGE_MAX + 1)], 0),  # asks stderr for a bar
    ],
)
def test_with_stderr_closed_the_exit_status_is_the_documented_one(
    args: list[str], status: int
) -> None:
    """Started with stderr closed (`2>&-`): the status is what the run would give otherwise
    (writing to the missing stderr failed with status 1, even on a search that succeeded)."""
    result = subprocess.run(
        [*COMMAND, "search", *args],
        stdout=subprocess.DEVNULL,
        timeout=TIMEOUT,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(2),
        check=False,
    )
    assert result.returncode == status


@pytest.mark.parametrize(
    "char",
    [
        *"\u202e\u202a\u2066\u2069\u200b\u200f\u2028\u2029\ufeff",
        *"\u061c\xad\u206a\u206f",  # the Arabic letter mark, soft hyphen, deprecated formats
        "\U000e0041",  # a tag character
    ],
)
def test_invisible_and_direction_characters_are_shown_escaped(char: str) -> None:
    """A locality or error message holding U+202E (the rest shown reversed), a zero-width
    space or a line separator reaches the terminal escaped, as control characters do."""
    escaped = repr(char)[1:-1]
    assert escaped.startswith("\\")
    assert printable(f"San{char}Jose") == f"San{escaped}Jose"
    assert printable("Île-de-France, 東京, São Paulo") == "Île-de-France, 東京, São Paulo"


def test_an_empty_api_key_option_says_so_in_the_command_s_words() -> None:
    """--api-key '' with NUMBERS_API_KEY set: the option is empty (it said "pass api_key= or
    set NUMBERS_API_KEY", the library's words, with the variable set)."""
    env = clean_env(NUMBERS_API_KEY=SECRET_KEY)
    result = run_main("search", "US", "--base-url", "http://127.0.0.1:9", "--api-key", "", env=env)
    assert result.returncode == 2
    assert "argument --api-key: must not be empty" in result.stderr
    assert "api_key=" not in result.stderr


def test_the_deadline_holds_while_the_sandbox_draws_its_inventory() -> None:
    """--sandbox draws a country's numbers on its first search (a second or so, phonenumbers):
    in a thread, so --deadline still ends the search on time (it blocked the event loop: the
    search finished, status 0, long past its deadline)."""
    result = run_cli("search", "US", "--sandbox", "--limit", "50", "--deadline", "0.05")
    assert result.returncode == 1
    assert "passed its --deadline of 0.05 s" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "said", "unsaid"),
    [
        (
            "SSL_CERT_FILE",
            "/nonexistent/ca.pem",
            "'/nonexistent/ca.pem' holds no CA",
            "cannot write",
        ),
        ("HTTPS_PROXY", "ftp://user:hunter22@proxy.test", "names a proxy for https://", "hunter22"),
        ("https_proxy", "ftp://user:hunter22@proxy.test", "names a proxy for https://", "hunter22"),
    ],
)
def test_an_environment_variable_the_engine_cannot_use_is_named(
    variable: str, value: str, said: str, unsaid: str
) -> None:
    """SSL_CERT_FILE naming no file, HTTPS_PROXY of an unknown scheme: one line naming the
    environment variable, status 2 as for a bad NUMBERS_BASE_URL (a missing CA file read
    "cannot write the results", then a bare "No such file" with status 1; the proxy was
    "argument HTTPS_PROXY"), and never a proxy's password."""
    env = clean_env(**{variable: value})
    result = run_cli(
        "search", "US", "--base-url", "https://numbers.test", "--api-key", "sk_12345678", env=env
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"numbers-async search: error: environment variable {variable}: ")
    assert said in line
    assert unsaid not in result.stderr
    assert "Traceback" not in result.stderr


def test_table_columns_stay_aligned_past_wide_and_combining_characters() -> None:
    """Localities of two-column characters (東京), with a combining accent (Zu\u0308rich) or
    vowel signs drawn over their letters (पुणे) beside plain ones: the column after them starts
    at one terminal column on every row (padding by len() put it two columns early after 東京,
    one late after the accent; unicodedata.combining() missed पुणे's signs)."""
    out = io.StringIO()
    writer = make_writer("table", out)
    localities = ["東京", "Zu\u0308rich", "Paris", "Zürich", "पुणे"]
    for number, locality in enumerate(localities):
        phone = f"+8130000000{number}"
        writer.add(AvailableNumber(phone_number=phone, locality=locality, administrative_area="R"))
    writer.finish()
    heading, *rows = out.getvalue().splitlines()
    # REGION starts at column 24 (12 of number, 2 of gap, 8 of LOCALITY, 2 of gap): 22
    # characters into the row after 東京's four columns, 25 after the accent's seven characters,
    # 26 after पुणे's four characters drawn in two columns.
    assert heading.index("REGION") == 24
    assert [row.index(" R") + 1 for row in rows] == [22, 25, 24, 24, 26]


@pytest.mark.parametrize("output", ["csv", "table"])
@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ({"amount": 1.5, "currency": "USD"}, '{"amount": 1.5, "currency": "USD"}'),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (2.5, "2.5"),
        (["sms", "voice"], "sms,voice"),
        (["sms", 3, True, {"a": 1}], 'sms,3,true,{"a": 1}'),
    ],
)
def test_csv_and_table_cells_hold_json_text_for_objects_and_booleans(
    output: str, value: object, cell: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field added to the spec holding an object, a boolean or null: its csv and table cell
    is the JSON text --format json writes (they held Python's repr: {'amount': 1.5}, True);
    strings and numbers as they are, lists comma-joined."""
    monkeypatch.setattr(formats, "COLUMNS", (*formats.COLUMNS, "price"))
    monkeypatch.setattr(formats, "TABLE_HEADINGS", (*formats.TABLE_HEADINGS, "PRICE"))
    number = AvailableNumber(phone_number="+14155550100")
    number.additional_properties["price"] = value
    out = io.StringIO()
    writer = make_writer(output, out)
    writer.add(number)
    writer.finish()
    if output == "csv":
        (row,) = csv.DictReader(io.StringIO(out.getvalue()))
        assert row["price"] == cell
    else:
        assert out.getvalue().splitlines()[1].endswith(f"  {cell}")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_table_columns_stay_aligned_on_a_stdout_that_is_not_utf8(encoding: str) -> None:
    """On an ASCII or Latin-1 stdout, a character it cannot encode is written escaped (ô as
    \\xf4, four characters): the column after it starts where the heading's does (widths were
    measured on the text before escaping, shifting it three columns right)."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="backslashreplace")
    writer = make_writer("table", stream)
    for number, locality in enumerate(["Côte d'Azur", "東京", "Paris"]):
        phone = f"+3310000000{number}"
        writer.add(AvailableNumber(phone_number=phone, locality=locality, administrative_area="R"))
    writer.finish()
    heading, *rows = raw.getvalue().decode(encoding).splitlines()
    assert {row.index("  R") + 2 for row in rows} == {heading.index("REGION")}
