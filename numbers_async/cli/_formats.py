"""Output formats: each writer takes numbers as they arrive and writes them to stdout.

``ndjson`` and ``csv`` stream a line per number; ``table`` (aligned columns need every row)
and ``json`` (one array) write at ``finish()``. JSON keeps the API's own field names. Columns
and JSON keys are every field the spec declares for a number, in spec order (a field added to
the spec shows after ``make generate``); JSON adds fields the spec does not know yet at the end.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TextIO, cast

from numbers_async import AvailableNumber, to_json_dict
from numbers_async._spec import NUMBER_FIELDS

COLUMNS = tuple(field.name for field in NUMBER_FIELDS)
# Shorter table headings for people; any other field is headed by its name in capitals.
_SHORT_HEADINGS = {"administrativeArea": "REGION", "phoneNumberType": "TYPE"}
TABLE_HEADINGS = tuple(
    _SHORT_HEADINGS.get(name) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).upper()
    for name in COLUMNS
)


class Writer(Protocol):
    """Writes numbers in one format."""

    def add(self, number: AvailableNumber) -> None:
        """Take the next number."""

    def finish(self) -> None:
        """Write whatever is still held back; called once, after the last number."""


STREAMED = frozenset({"ndjson", "csv"})  # formats written number by number, not at the end


class OutputError(OSError):
    """Writing the results failed (a full disk, a closed descriptor): not an error of the API."""


class _Output:
    """``out`` for the writers, its write failures raised as OutputError."""

    def __init__(self, out: TextIO) -> None:
        self.encoding = getattr(out, "encoding", None)
        self._out = out

    def write(self, text: str) -> int:
        with _as_output_error():
            return self._out.write(text)

    def flush(self) -> None:
        with _as_output_error():
            self._out.flush()


@contextlib.contextmanager
def _as_output_error() -> Iterator[None]:
    """An OSError inside raised as OutputError; a broken pipe as it is (the reader stopped
    reading, `| head`: not an error)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(error.errno, error.strerror) from error


def make_writer(name: str, out: TextIO) -> Writer:
    """The writer of format ``name`` (one of ``FORMATS``) on ``out``; each flushes ``out`` as
    it finishes, so a failing output fails there (OutputError), not at the interpreter's exit."""
    writers: dict[str, Callable[[TextIO], Writer]] = {
        "table": TableWriter,
        "json": JsonWriter,
        "ndjson": NdjsonWriter,
        "csv": CsvWriter,
    }
    return writers[name](cast(TextIO, _Output(out)))


# Control characters, lone surrogates, and the invisible ones a terminal acts on: zero-width
# and direction marks (the Arabic letter mark too), bidi embeddings and isolates (U+202E shows
# the text after it reversed), line and paragraph separators, the soft hyphen, the deprecated
# format characters, the BOM and tag characters.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u061c\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\U000e0000-\U000e007f]"
)


def ascii_only(out: TextIO) -> bool:
    """Whether JSON for ``out`` must escape every non-ASCII character (``\u00ce``): a stream
    that is not UTF-8 would write those it cannot encode as Python escapes (``\xce``), which
    JSON readers refuse."""
    encoding = getattr(out, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name != "utf-8"
    except LookupError:
        return True


def printable(text: str) -> str:
    """``text`` for people's eyes: each control, invisible or direction-changing character or
    lone surrogate a server sent shown escaped, as ``repr()`` shows it (``\\x1b``, ``\\n``,
    ``\\u202e``, ``\\ud800``)."""
    return _UNPRINTABLE.sub(lambda found: repr(found.group())[1:-1], text)


class PrintableFormatter(logging.Formatter):
    """Log records as ``printable()`` shows text: one line each, nothing a terminal would run
    (a retry line holds the tracking id a server sent)."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self._inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return printable(self._inner.format(record))


def _cells(number: AvailableNumber) -> list[str]:
    """The text of each column for one number; absent fields are empty, lists comma-joined."""
    fields = number.to_dict()
    cells = []
    for name in COLUMNS:
        value = fields.get(name, "")
        cells.append(",".join(map(_cell, value)) if isinstance(value, list) else _cell(value))
    return cells


def _cell(value: object) -> str:
    """One value's text: a string or number as it is, anything else (an object, true, null)
    as --format json writes it, not as Python's repr."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class TableWriter:
    """An aligned table for people: a heading row, then one number per row."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._encoding = getattr(out, "encoding", None)
        self._rows: list[list[str]] = [list(TABLE_HEADINGS)]

    def add(self, number: AvailableNumber) -> None:
        cells = (printable(cell) or "-" for cell in _cells(number))
        self._rows.append([_as_written(cell, self._encoding) for cell in cells])

    def finish(self) -> None:
        shown = [[(cell, display_width(cell)) for cell in row] for row in self._rows]
        widths = [max(row[i][1] for row in shown) for i in range(len(TABLE_HEADINGS))]
        for row in shown:
            line = "  ".join(
                cell + " " * (width - used) for (cell, used), width in zip(row, widths, strict=True)
            )
            self._out.write(line.rstrip() + "\n")
        self._out.flush()


def _as_written(text: str, encoding: str | None) -> str:
    """``text`` as a stream of ``encoding`` writes it, what it cannot encode escaped (ô as
    ``\\xf4`` in ASCII): the table measures the columns on what the terminal will show."""
    if encoding is None:
        return text
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal, so that a locality like 東京, पुणे or a decomposed
    é keeps the columns after it aligned."""
    return sum(_columns(char) for char in text)


def _columns(char: str) -> int:
    """Wide (CJK) characters take two columns; marks drawn over or around the one before
    (accents, Thai and Devanagari vowel signs, variation selectors: Mn, Me) none."""
    if unicodedata.category(char) in {"Mn", "Me"}:
        return 0
    return 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1


class JsonWriter:
    """One JSON array of the API's number objects."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._numbers: list[dict[str, Any]] = []

    def add(self, number: AvailableNumber) -> None:
        self._numbers.append(to_json_dict(number))

    def finish(self) -> None:
        json.dump(self._numbers, self._out, indent=2, ensure_ascii=ascii_only(self._out))
        self._out.write("\n")
        self._out.flush()


class NdjsonWriter:
    """One JSON object per line, written (and flushed) as each number arrives."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._ascii = ascii_only(out)

    def add(self, number: AvailableNumber) -> None:
        self._out.write(json.dumps(to_json_dict(number), ensure_ascii=self._ascii) + "\n")
        self._out.flush()

    def finish(self) -> None:
        self._out.flush()


class CsvWriter:
    """CSV with the API's field names as header; features comma-joined in one cell."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        self._started = False

    def add(self, number: AvailableNumber) -> None:
        self._start()
        self._csv.writerow(_cells(number))
        self._out.flush()

    def finish(self) -> None:
        self._start()
        self._out.flush()

    def _start(self) -> None:
        if not self._started:
            self._csv.writerow(COLUMNS)
            self._started = True
