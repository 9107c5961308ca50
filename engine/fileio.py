"""Stream texts from .jsonl, .csv or .txt files in chunks, and write results as JSON lines."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SUPPORTED_SUFFIXES = (".jsonl", ".csv", ".txt")


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line (or CSV record) number, for error messages and output ids
    text: str


class InputFileError(ValueError):
    """A bad input file: the message names the file and the line."""


def _text_from(value: Any, path: Path, line: int, field: str) -> str:
    if value is None:
        raise InputFileError(f"{path}:{line}: no field {field!r}")
    if not isinstance(value, str):
        raise InputFileError(f"{path}:{line}: field {field!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InputFileError(f"{path}:{line}: field {field!r} is empty")
    return value


def _jsonl_rows(handle: IO[str], path: Path, field: str) -> Iterator[Row]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise InputFileError(f"{path}:{number}: expected a JSON object with a {field!r} field")
        yield Row(number, _text_from(record.get(field), path, number, field))


def _csv_rows(handle: IO[str], path: Path, field: str) -> Iterator[Row]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or field not in reader.fieldnames:
        raise InputFileError(f"{path}: no column {field!r} (columns: {reader.fieldnames or []})")
    for record in reader:
        yield Row(reader.line_num, _text_from(record.get(field), path, reader.line_num, field))


def _txt_rows(handle: IO[str]) -> Iterator[Row]:
    # One text per line; blank lines separate nothing and are skipped.
    for number, line in enumerate(handle, start=1):
        text = line.rstrip("\r\n")
        if text.strip():
            yield Row(number, text)


def read_rows(path: Path, handle: IO[str], text_field: str) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _jsonl_rows(handle, path, text_field)
    if suffix == ".csv":
        return _csv_rows(handle, path, text_field)
    if suffix == ".txt":
        return _txt_rows(handle)
    raise InputFileError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}")


def chunked(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def open_input(path: Path) -> IO[str]:
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    try:
        return open(path, encoding="utf-8", newline="" if path.suffix.lower() == ".csv" else None, errors="strict")
    except OSError as exc:
        raise InputFileError(f"{path}: cannot open ({exc.strerror})") from exc


def file_position(handle: IO[str]) -> int:
    """Bytes consumed so far, for a progress bar sized by the file."""
    try:
        return os.lseek(handle.fileno(), 0, os.SEEK_CUR)
    except OSError:
        return 0
