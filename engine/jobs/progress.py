"""A file job's progress record, so an interrupted job resumes where it stopped.

The record sits next to the output (``<output>.progress.json``) while the job runs. After each
chunk, its lines are appended to the output and flushed to disk, and only then does the record
move forward (written to a temporary file, flushed and renamed: the old or the new record,
never half of one). So the output always holds at least the bytes the record counts, and
whatever follows them (a chunk written but not yet recorded, or torn by a kill during the write)
is cut off on resume and computed again. The record also says what the job is (the input
file's digest, the model's, the labels, template, mode and text field), so that resuming with a
different input or settings is refused instead of mixing results.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .files import InputFileError

RECORD_FORMAT = 1


def progress_path(output: Path) -> Path:
    return output.with_name(output.name + ".progress.json")


@dataclass(frozen=True)
class JobRecord:
    job: dict[str, Any]  # what the job computes: input digest, model digest, labels, template, ...
    rows: int = 0  # rows committed to the output
    last_line: int = 0  # input line of the last committed row (0: none)
    output_bytes: int = 0  # the output's committed size
    format: int = RECORD_FORMAT

    def advanced(self, rows: int, last_line: int, output_bytes: int) -> JobRecord:
        return JobRecord(self.job, self.rows + rows, last_line, output_bytes)


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


def read_record(path: Path) -> JobRecord:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = JobRecord(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise InputFileError(f"{path}: not a readable zsc progress record ({exc}); remove it and the output to start over") from None
    if record.format != RECORD_FORMAT:
        raise InputFileError(f"{path}: progress record format {record.format}, this zsc writes {RECORD_FORMAT}")
    return record


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
