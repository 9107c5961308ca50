"""A file job's progress record, so an interrupted job resumes where it stopped.

The record sits next to the output (``<output>.progress.json``) while the job runs. After each
chunk, its lines are appended to the output and flushed to disk, and only then does the record
move forward (written to a temporary file, flushed and renamed: the old or the new record,
never half of one). So the output always holds at least the bytes the record counts, and
whatever follows them (a chunk written but not yet recorded, or torn by a kill during the write)
is cut off on resume and computed again. The record binds to its output: it holds the sha256 of
the committed bytes, and a resume first checks, reading only, that the output on disk holds
exactly those bytes, one JSON line per committed input row; a record copied beside another
file, or edited, is refused with every byte left in place. The record also says what the job is (the input
file's digest, the model's, the labels, template, mode and text field), so that resuming with a
different input or settings is refused instead of mixing results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..model_files import is_sha256
from .files import InputFileError

# 2: the record binds to its output (the committed bytes' sha256); a format-1 record cannot be checked.
RECORD_FORMAT = 2
_EMPTY_SHA256 = hashlib.sha256().hexdigest()


def progress_path(output: Path) -> Path:
    return output.with_name(output.name + ".progress.json")


@dataclass(frozen=True)
class JobRecord:
    job: dict[str, Any]  # what the job computes: input digest, model digest, labels, template, ...
    rows: int = 0  # rows committed to the output
    last_line: int = 0  # input line of the last committed row (0: none)
    output_bytes: int = 0  # the output's committed size
    output_sha256: str = _EMPTY_SHA256  # sha256 of those committed bytes: the record belongs to this output only
    format: int = RECORD_FORMAT

    def advanced(self, rows: int, last_line: int, output_bytes: int, output_sha256: str) -> JobRecord:
        return JobRecord(self.job, self.rows + rows, last_line, output_bytes, output_sha256)


def write_record(path: Path, record: JobRecord) -> None:
    """Replace the record atomically and durably (write, flush, rename, flush the folder)."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(asdict(record), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)  # a full disk must not leave a torn record behind
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


_START_OVER = "nothing was changed; remove it, and the output if zsc wrote it, to start over"
# A record is a few hundred bytes; anything far larger is not one, and is not read whole.
MAX_RECORD_BYTES = 1 << 20


def read_record(path: Path) -> JobRecord:
    """The record, its schema checked: every field present with its type, counts not negative."""
    unreadable = f"{path}: not a readable zsc progress record"
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_RECORD_BYTES + 1)
        if len(raw) > MAX_RECORD_BYTES:
            raise ValueError(f"larger than {MAX_RECORD_BYTES} bytes")
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise InputFileError(f"{unreadable} (nested too deeply); {_START_OVER}") from None
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{unreadable} ({exc}); {_START_OVER}") from None
    problem = _schema_problem(data)
    if problem is not None:
        raise InputFileError(f"{unreadable} ({problem}); {_START_OVER}")
    return JobRecord(**data)


def _schema_problem(data: object) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    fields = {f.name for f in dataclasses.fields(JobRecord)}
    if set(data) != fields:
        return f"expected the fields {sorted(fields)}, found {sorted(data)}"
    if data["format"] != RECORD_FORMAT:
        return f"format {data['format']!r}; this zsc writes and resumes format {RECORD_FORMAT} only"
    if not isinstance(data["job"], dict):
        return "job must be an object"
    for name in ("rows", "last_line", "output_bytes"):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{name} must be a whole number of 0 or more, got {value!r}"
    if not is_sha256(data["output_sha256"]):
        return "output_sha256 must be 64 lower-case hex digits"
    return None


def verify_committed(record: JobRecord, output: Path, row_lines: list[int], record_path: Path) -> Any:
    """Check, reading only, that ``output`` holds what ``record`` says it committed: its first
    ``output_bytes`` have the recorded digest, and they are ``rows`` JSON lines for the input's
    first ``rows`` rows, in order (``row_lines``: each input row's line number). Returns the
    digest of those bytes, to be continued. Refuses (InputFileError) on any difference, leaving
    every byte of the output in place. Reads a line at a time: constant memory."""
    refuse = f"cannot resume: {output} is not the output {record_path} describes"
    advice = "; if that file is yours, keep it and write the job to a new --output"
    digest = hashlib.sha256()
    rows_match, count = True, 0
    try:
        with open(output, "rb") as handle:
            remaining = record.output_bytes
            while remaining:
                raw = handle.readline(remaining)
                if not raw:
                    raise InputFileError(f"{refuse}: it is shorter than the {record.output_bytes} bytes the record counts{advice}")
                digest.update(raw)
                remaining -= len(raw)
                rows_match = rows_match and count < len(row_lines) and _line_of(raw) == row_lines[count]
                count += 1
    except FileNotFoundError:
        if record.output_bytes:
            raise InputFileError(f"{refuse}: it does not exist{advice}") from None
    if digest.hexdigest() != record.output_sha256:
        raise InputFileError(f"{refuse}: its first {record.output_bytes} bytes are not the ones the job wrote{advice}")
    last = row_lines[count - 1] if 0 < count <= len(row_lines) else 0
    if not rows_match or count != record.rows or record.last_line != last:
        raise InputFileError(f"{refuse}: the record counts {record.rows} rows up to input line {record.last_line}, "
                             f"but the output holds {count} rows of an input of {len(row_lines)}{advice}")
    return digest


def _line_of(raw: bytes) -> object:
    """The input line number an output line names (None if it names none)."""
    try:
        record = json.loads(raw)
        return record.get("line") if isinstance(record, dict) else None
    except (ValueError, RecursionError):
        return None


def check_same_job(record: JobRecord, job: dict[str, Any], record_path: Path) -> None:
    """Refuse to resume a job whose input, model or settings differ from the interrupted one's."""
    for key, value in job.items():
        recorded = record.job.get(key)
        if recorded != value:
            what = "the input file changed" if key == "input_sha256" else "the model changed" if key == "model_sha256" else \
                f"{key} was {recorded!r}, now {value!r}"
            raise InputFileError(
                f"cannot resume: {what} since the interrupted job ({record_path}); run it with the same input, model "
                "and options, or remove the output and its progress record to start over"
            )
