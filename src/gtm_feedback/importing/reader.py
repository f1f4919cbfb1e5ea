"""Reading CSV bytes into rows that remember their line number and any decoding fault."""

from __future__ import annotations

import _csv
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gtm_feedback.errors import InvalidInputError

_MAX_FIELD = 1_000_000


@dataclass(frozen=True)
class RawRow:
    """One CSV record: where it started, its cells by header, and a decoding fault if any."""

    line: int
    cells: dict[str, str]
    fault: str | None = None


class CsvFormatError(InvalidInputError):
    """The file cannot be read as CSV at all (no header, not text)."""


def read_csv(path: Path) -> tuple[list[str], Iterator[RawRow]]:
    """The header and the rows of the (small) CSV file at ``path``, read at once; big files
    go through :func:`read_csv_stream` on a file the caller closes."""
    return read_csv_bytes(path.read_bytes())


def read_csv_bytes(data: bytes) -> tuple[list[str], Iterator[RawRow]]:
    """The header and the rows of CSV ``data``; bad bytes spoil only the rows they are in."""
    return read_csv_stream(io.BytesIO(data))


def read_csv_stream(stream: IO[bytes]) -> tuple[list[str], Iterator[RawRow]]:
    """The header and the rows of a CSV byte stream, decoded and parsed as they are read.

    Memory holds one row and the reader's buffer, never the file.
    """
    # surrogateescape keeps undecodable bytes as lone surrogates so each row can be judged
    # on its own instead of the whole file failing to decode; newline="" is what csv wants.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return read_csv_lines(text)


def read_csv_lines(lines: Iterable[str]) -> tuple[list[str], Iterator[RawRow]]:
    """The header and the rows of CSV text given line by line (a file, or typed in)."""
    csv.field_size_limit(_MAX_FIELD)
    reader = csv.reader(lines)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise CsvFormatError("the file is empty: expected a header row") from None
    except csv.Error as exc:
        raise CsvFormatError(f"the header row cannot be read: {exc}") from None
    if any("\x00" in name for name in header):
        raise CsvFormatError("the file is binary, not CSV text")
    if not any(header):
        raise CsvFormatError("the first row must be a header naming the columns")
    if _undecodable("".join(header)):
        raise CsvFormatError("the header row is not valid UTF-8")
    return header, _rows(reader, header)


def _rows(reader: _csv.Reader, header: list[str]) -> Iterator[RawRow]:
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # One oversize field spoils its row, not the file: the reader goes on after it.
            start, line = line, reader.line_num + 1
            yield RawRow(start, {}, f"cannot be read: {exc}")
            continue
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        yield _to_row(start, header, record)


def _to_row(line: int, header: list[str], record: list[str]) -> RawRow:
    if len(record) != len(header):
        fault = f"has {len(record)} fields, the header has {len(header)}"
        return RawRow(line, {}, fault)
    for column, cell in zip(header, record, strict=True):
        if "\x00" in cell:
            return RawRow(line, {}, f"column {column!r} holds a NUL byte")
        bad = _undecodable(cell)
        if bad is not None:
            return RawRow(line, {}, f"column {column!r} is not valid UTF-8 (byte 0x{bad:02x})")
    return RawRow(line, dict(zip(header, record, strict=True)))


def _undecodable(text: str) -> int | None:
    for char in text:
        if "\udc80" <= char <= "\udcff":
            return ord(char) - 0xDC00
    return None
