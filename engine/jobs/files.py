"""Stream texts from .jsonl, .csv or .txt files, and decide where results may be written.

Files are read as bytes and decoded a line at a time, so a bad byte is reported with its file
and line, and a UTF-8 byte-order mark (what Excel writes) is accepted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..inputs import InputError, normalise_labels, unusable_text

_BOM = "\ufeff"
# The longest row (line) a file job reads: rows are read, held and echoed whole, so this bounds
# a job's memory whatever the file holds. The model reads far less of a text than this.
MAX_ROW_BYTES = 1 << 20


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line (or, for CSV, the line where the record starts), for messages and output ids
    text: str
    labels: list[str] | None = None  # the row's own candidate labels (RowFields.labels)


@dataclass(frozen=True)
class RowFields:
    """Which field of a row holds its text, and which its own labels (None: the job's labels)."""

    text: str = "text"
    labels: str | None = None


class InputFileError(ValueError):
    """A bad input file or output path: the message names the file (and the line)."""


def _row_from(record: dict[str, Any], path: Path, line: int, fields: RowFields) -> Row:
    labels = _labels_from(record, path, line, fields.labels) if fields.labels is not None else None
    return Row(line, _text_from(record, path, line, fields.text), labels)


def _labels_from(record: dict[str, Any], path: Path, line: int, field: str) -> list[str]:
    """A row's labels: a list of strings, or one comma-separated string."""
    value = record.get(field)
    if field not in record or value is None:
        raise InputFileError(f"{path}:{line}: no labels in field {field!r}")
    if not isinstance(value, (str, list)):
        raise InputFileError(f"{path}:{line}: field {field!r} must be a list of labels or a comma-separated string, "
                             f"got {type(value).__name__}")
    try:
        labels = normalise_labels(value)
    except InputError as exc:
        raise InputFileError(f"{path}:{line}: field {field!r}: {exc}") from None
    if not labels:
        raise InputFileError(f"{path}:{line}: field {field!r} holds no labels")
    return labels


def _text_from(record: dict[str, Any], path: Path, line: int, field: str) -> str:
    if field not in record:
        raise InputFileError(f"{path}:{line}: no field {field!r}")
    value = record[field]
    if value is None:
        raise InputFileError(f"{path}:{line}: field {field!r} is null")
    if not isinstance(value, str):
        raise InputFileError(f"{path}:{line}: field {field!r} must be a string, got {type(value).__name__}")
    problem = unusable_text(value)
    if problem is not None:
        raise InputFileError(f"{path}:{line}: field {field!r} {problem}")
    return value


def decoded_lines(handle: IO[bytes], path: Path, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[tuple[int, str]]:
    """(line number, text with its line ending) for each line; a BOM on line 1 is dropped. A line
    longer than ``max_row_bytes`` is an error, found without reading more of it than that."""
    number = 0
    while raw := handle.readline(max_row_bytes + 1):
        number += 1
        if len(raw) > max_row_bytes:
            raise InputFileError(f"{path}:{number}: the row is longer than {max_row_bytes} bytes; raise --max-row-bytes to read it")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}:{number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                "save the file as UTF-8"
            ) from None
        if number == 1 and line.startswith(_BOM):
            line = line[1:]
        yield number, line


def loads_record(line: str, where: str) -> Any:
    """One JSON value from a row of a file, every failure an InputFileError naming ``where``
    (file:line). The parser's recursion limit bounds the depth: deeper is "nested too deeply"."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise InputFileError(f"{where}: invalid JSON ({exc})") from None
    except RecursionError:
        raise InputFileError(f"{where}: invalid JSON (nested too deeply)") from None


Records = Iterator[tuple[int, dict[str, Any]]]  # (line, record) for each row
RecordReader = Callable[[Iterator[tuple[int, str]], Path, tuple[str, ...]], Records]


def _jsonl_records(lines: Iterator[tuple[int, str]], path: Path, fields: tuple[str, ...]) -> Records:
    for number, line in lines:
        if not line.strip():
            continue
        record = loads_record(line, f"{path}:{number}")
        if not isinstance(record, dict):
            raise InputFileError(f"{path}:{number}: expected a JSON object with {' and '.join(repr(f) for f in fields)} fields"
                                 if len(fields) > 1 else f"{path}:{number}: expected a JSON object with a {fields[0]!r} field")
        yield number, record


def _csv_records(lines: Iterator[tuple[int, str]], path: Path, fields: tuple[str, ...]) -> Records:
    # csv counts physical lines itself (line_num); strict=True makes an unterminated quote an error
    # instead of swallowing the rest of the file into one field.
    reader = csv.reader((line for _, line in lines), strict=True)
    start = 1
    try:
        header = next(reader, None)
        for field in fields:
            if header is None or field not in header:
                raise InputFileError(f"{path}: no column {field!r} (columns: {header or []})")
        assert header is not None
        start = reader.line_num + 1
        for record in reader:
            if record:  # a blank line
                if len(record) != len(header):
                    raise InputFileError(f"{path}:{start}: {len(record)} fields, but the header has {len(header)}")
                yield start, dict(zip(header, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        reason = "a quoted field is never closed" if "unexpected end of data" in str(exc) else str(exc)
        raise InputFileError(f"{path}:{start}: malformed CSV record starting here ({reason})") from None


_RECORD_READERS: dict[str, RecordReader] = {
    ".jsonl": _jsonl_records,
    ".csv": _csv_records,
}


def read_records(path: Path, handle: IO[bytes], fields: tuple[str, ...], max_row_bytes: int = MAX_ROW_BYTES) -> Records:
    """(line, record) for each row of a .jsonl or .csv file that has ``fields`` (a CSV's header is
    checked for them; a JSON line must be an object): bounded rows, UTF-8 checked, every problem an
    InputFileError naming file:line. The one reader of records, for file jobs and ``zsc tune`` alike."""
    reader = _RECORD_READERS.get(path.suffix.lower())
    if reader is None:
        raise InputFileError(f"{path}: unsupported file type {path.suffix.lower()!r}; use one of {', '.join(_RECORD_READERS)}")
    return reader(decoded_lines(handle, path, max_row_bytes), path, fields)


def _record_rows(records: RecordReader) -> Callable[[Iterator[tuple[int, str]], Path, RowFields], Iterator[Row]]:
    def rows(lines: Iterator[tuple[int, str]], path: Path, fields: RowFields) -> Iterator[Row]:
        wanted = (fields.text,) if fields.labels is None else (fields.text, fields.labels)
        for number, record in records(lines, path, wanted):
            yield _row_from(record, path, number, fields)

    return rows


def _txt_rows(lines: Iterator[tuple[int, str]], path: Path, fields: RowFields) -> Iterator[Row]:
    # One text per line (no fields); blank lines separate nothing and are skipped.
    # A line with no visible character (whitespace, controls, zero-width or combining marks) is blank to the eye: skipped too.
    if fields.labels is not None:
        raise InputFileError(f"{path}: a .txt file has one text per line and no fields; per-row labels need .jsonl or .csv")
    for number, line in lines:
        text = line.rstrip("\r\n")
        if unusable_text(text) is None:
            yield Row(number, text)


_READERS: dict[str, Callable[[Iterator[tuple[int, str]], Path, RowFields], Iterator[Row]]] = {
    ".jsonl": _record_rows(_jsonl_records),
    ".csv": _record_rows(_csv_records),
    ".txt": _txt_rows,
}
SUPPORTED_SUFFIXES = tuple(_READERS)


def _reader_for(path: Path) -> Callable[[Iterator[tuple[int, str]], Path, RowFields], Iterator[Row]]:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputFileError(f"{path}: unsupported file type {path.suffix.lower()!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    return reader


def read_rows(path: Path, handle: IO[bytes], fields: RowFields, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[Row]:
    return _reader_for(path)(decoded_lines(handle, path, max_row_bytes), path, fields)


class _Hashing:
    """A binary file read line by line, hashing what it reads."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def readline(self, size: int = -1) -> bytes:
        data = self.handle.readline(size)
        self.digest.update(data)
        return data


def checked_digest(path: Path, fields: RowFields, max_row_bytes: int = MAX_ROW_BYTES) -> tuple[str, list[int]]:
    """One pass over a regular input file before any work: its sha256 (what a resumed job must
    match) and each row's line number (what a resumed output must hold, in order), with every
    row checked as the job will read it, so a bad row stops the job before anything is written."""
    with open(path, "rb") as handle:
        hashing = _Hashing(handle)
        lines = [row.line for row in read_rows(path, hashing, fields, max_row_bytes)]  # type: ignore[arg-type]
        while hashing.readline(1 << 20):  # what a reader left unread (nothing, for these formats)
            pass
    return hashing.digest.hexdigest(), lines


def is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def chunked(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def open_input(path: Path) -> IO[bytes]:
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory, not a file")
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    _reader_for(path)  # an unsupported type fails before anything is written
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputFileError(f"{path}: cannot open ({exc.strerror})") from None


@dataclass(frozen=True)
class OutputTarget:
    """Where results go: a regular file ``path`` (committed chunk by chunk, resumable), a device or
    pipe (``direct``, written as it is), or standard output (``path`` None)."""

    path: Path | None
    direct: bool = False


def _stdout_stat() -> os.stat_result | None:
    """What standard output is (a file a shell redirected it to, a pipe, a terminal), or None when
    it has no descriptor to ask."""
    try:
        return os.fstat(sys.stdout.fileno())
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None


def _is_input(written: os.stat_result | None, input_path: Path) -> bool:
    """Whether results would be written into the input itself: the same device and inode,
    however the two were reached (path, link, descriptor, or a shell redirection of stdout)."""
    try:
        source = input_path.stat()
    except OSError:
        return False
    return written is not None and (written.st_dev, written.st_ino) == (source.st_dev, source.st_ino)


def resolve_output(output: Path | None, input_path: Path) -> OutputTarget:
    """Check where results go before any row is read: refuse what would destroy data.

    A symlink is followed (its target is replaced, the link stays); a device or pipe such as
    /dev/stdout is written to directly; the input file (by device and inode, standard output
    redirected onto it included: ``>> in.jsonl`` would read its own results forever), a
    directory or a missing folder is an error.
    """
    if output is None:
        if _is_input(_stdout_stat(), input_path):
            raise InputFileError(f"standard output is the input file {input_path} (a shell redirection onto it?); "
                                 "writing there would read the results back as input forever. Write to another file with --output")
        return OutputTarget(None)
    try:
        written: os.stat_result | None = output.stat()  # follows symlinks: what would be written
    except FileNotFoundError:
        written = None
    except OSError as exc:
        raise InputFileError(f"--output {output}: cannot use it ({exc.strerror})") from None
    mode = written.st_mode if written is not None else None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputFileError(f"--output {output}: is a directory; give a file name")
    if _is_input(written, input_path):
        raise InputFileError(f"--output {output} is the input file; writing it would destroy the input")
    if mode is not None and not stat.S_ISREG(mode):
        return OutputTarget(output, direct=True)  # /dev/stdout, /dev/null, a named pipe
    target = Path(os.path.realpath(output))
    if mode is None and not target.parent.is_dir():
        raise InputFileError(f"--output {output}: folder {target.parent} does not exist")
    return OutputTarget(target)
