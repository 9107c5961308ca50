"""Classify a whole file in constant memory: stream rows in chunks, write JSON lines, show progress.

A file output is committed chunk by chunk with a progress record beside it (progress.py), so a
job killed at any moment resumes with ``resume=True`` and ends with the same output, line for
line, as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..inputs import InputError, normalise_labels
from ..model_files import sha256_file
from ..options import CallOptions
from .files import (
    MAX_ROW_BYTES,
    InputFileError,
    Row,
    RowFields,
    checked_digest,
    chunked,
    is_regular_file,
    open_input,
    read_rows,
    resolve_output,
)
from .progress import JobRecord, check_same_job, progress_path, read_record, verify_committed, write_record


@dataclass(frozen=True)
class FileJob:
    """What a file job classifies with: the same labels for every row, or each row's own from
    ``fields.labels``; the call's options; and how the file is read."""

    options: CallOptions = CallOptions()
    labels: list[str] | None = None
    fields: RowFields = RowFields()
    chunk_size: int = 256
    max_row_bytes: int = MAX_ROW_BYTES

    @classmethod
    def of(cls, candidate_labels: str | list[str] | None, options: CallOptions, fields: RowFields = RowFields(),
           chunk_size: int = 256, max_row_bytes: int = MAX_ROW_BYTES) -> FileJob:
        """A checked job: labels for every row, or a labels field (exactly one of them)."""
        if (candidate_labels is None) == (fields.labels is None):
            raise InputError("give the labels for every row (--labels) or a field that holds each row's (--labels-field), "
                             "exactly one of them")
        labels = None if candidate_labels is None else normalise_labels(candidate_labels)
        if labels is not None and not labels:
            raise InputError("candidate_labels is empty")
        for name, value in (("chunk_size", chunk_size), ("max_row_bytes", max_row_bytes)):
            if value < 1:
                raise InputError(f"{name} must be positive, got {value}")
        return cls(options, labels, fields, chunk_size, max_row_bytes)

    def labels_for(self, rows: list[Row]) -> list[str] | list[list[str]]:
        """The candidate_labels of a call over ``rows``: the job's, or one list per row."""
        return self.labels if self.labels is not None else [row.labels or [] for row in rows]


# Rows classified per call inside a chunk: small enough for a smooth progress bar. Scores do not
# depend on how texts are grouped (the shipped precisions are batch-invariant).
PROGRESS_STEP = 32


class _NoProgress:
    """Stands in for tqdm where it is not installed (it comes with tokenizers' huggingface_hub)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, _: int) -> None:
        return None


def progress_bar(**options: Any) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(**options)


def _job_description(classifier: Any, input_sha256: str, job: FileJob) -> dict[str, Any]:
    """What a job computes; a resumed job must match it exactly (the options as their record)."""
    model_dir = classifier.model_dir
    manifest = model_dir.manifest
    # Every file's digest: a directory's graphs can share a weights file, so no single graph's
    # digest identifies the model. Which of its graphs runs matters as much.
    model_sha256 = hashlib.sha256(json.dumps(manifest.files, sort_keys=True).encode()).hexdigest() if manifest.files \
        else sha256_file(model_dir.model_path)
    return {
        "input_sha256": input_sha256,
        "model_sha256": model_sha256,
        "precision": classifier.precision,
        "labels": job.labels,
        "labels_field": job.fields.labels,
        "text_field": job.fields.text,
        "options": job.options.as_record(),
    }


def _classified_lines(classifier: Any, rows: list[Row], job: FileJob, bar: Any) -> str:
    lines = []
    for start in range(0, len(rows), PROGRESS_STEP):
        step = rows[start : start + PROGRESS_STEP]
        results = classifier([r.text for r in step], job.labels_for(step), options=job.options, legacy=True)
        for row, result in zip(step, results):
            record = {"line": row.line, "text": row.text, "labels": result["labels"], "scores": result["scores"]}
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        bar.update(len(step))
    return "".join(lines)


def classify_file(classifier: Any, input_path: Path, output_path: Path | None, job: FileJob, resume: bool = False) -> int:
    """Write one JSON line per input row: {"line", "text", "labels", "scores"}; returns the rows
    in the output (a resumed job counts the rows it found committed too).

    A regular input file is read once before any work (its digest, and every row checked: a bad
    row stops the job with ``file:line`` before anything is written). A file output is then
    committed chunk by chunk, with ``<output>.progress.json`` beside it until the job ends.
    Killed or interrupted, the output keeps every committed row and ``resume=True`` continues
    after them. Standard output, devices and pipes, and any output of an input that can be read
    only once (a named pipe), are written as rows are classified (no resuming). Rows longer than
    ``job.max_row_bytes`` are refused.
    """
    target = resolve_output(output_path, input_path)
    handle = open_input(input_path)
    with handle:
        checked = checked_digest(input_path, job.fields, job.max_row_bytes) if is_regular_file(input_path) else None
        if target.path is None or target.direct or checked is None:
            if resume:
                raise InputFileError("--resume needs --output to be a file and --input a regular file (not a pipe)")
            sink = sys.stdout if target.path is None else open(target.path, "w", encoding="utf-8")
            rows = len(checked[1]) if checked else None
            return _stream(classifier, input_path, handle, job, sink, rows)
        digest, row_lines = checked
        if not row_lines:
            raise InputFileError(f"{input_path}: no texts found")
        return _committed_job(classifier, input_path, handle, target.path, job, _job_description(classifier, digest, job), row_lines,
                              resume)


def _bar(input_path: Path, rows: int | None, done: int) -> Any:
    # Rows, not bytes; no bar at all when stderr is a file or pipe (no \r noise in logs).
    shown = sys.stderr.isatty()
    return progress_bar(total=rows, initial=done, unit="rows", desc=input_path.name, file=sys.stderr, disable=not shown,
                        smoothing=0.1)


def _chunks(input_path: Path, handle: IO[bytes], job: FileJob, after_line: int = 0) -> Iterator[list[Row]]:
    rows = (row for row in read_rows(input_path, handle, job.fields, job.max_row_bytes) if row.line > after_line)
    return chunked(rows, job.chunk_size)


def _stream(classifier: Any, input_path: Path, handle: IO[bytes], job: FileJob, sink: IO[str], rows: int | None) -> int:
    count = 0
    try:
        with _bar(input_path, rows, 0) as bar:
            for chunk in _chunks(input_path, handle, job):
                sink.write(_classified_lines(classifier, chunk, job, bar))
                sink.flush()
                count += len(chunk)
    finally:
        if sink is not sys.stdout:
            sink.close()
    if count == 0:
        raise InputFileError(f"{input_path}: no texts found")
    return count


def _start_or_resume(output: Path, record_path: Path, described: dict[str, Any], row_lines: list[int], resume: bool
                     ) -> tuple[JobRecord, Any, IO[bytes]]:
    """The job's record, the running digest of its committed output, and the output opened for
    appending at the committed end. Every check runs before a byte of the output changes."""
    if record_path.exists():
        record = read_record(record_path)
        if not resume:
            raise InputFileError(
                f"{output} is an unfinished job ({record.rows} rows done, progress in {record_path}); add --resume to "
                "continue it, or remove both files to start over"
            )
        check_same_job(record, described, record_path)
        digest = verify_committed(record, output, row_lines, record_path)
        sink = open(output, "r+b" if output.exists() else "w+b")
        sink.truncate(record.output_bytes)  # a chunk written after the last record, or torn by a kill
        sink.seek(record.output_bytes)
        return record, digest, sink
    if resume and output.exists():
        raise InputFileError(f"--resume: {output} has no progress record: it is complete (a finished job removes its "
                             "record) or was not written by zsc")
    record = JobRecord(described)
    write_record(record_path, record)  # first, so that a job killed at once is still resumable
    return record, hashlib.sha256(), open(output, "wb")


def _committed_job(classifier: Any, input_path: Path, handle: IO[bytes], output: Path, job: FileJob, described: dict[str, Any],
                   row_lines: list[int], resume: bool) -> int:
    record_path = progress_path(output)
    record, digest, sink = _start_or_resume(output, record_path, described, row_lines, resume)
    try:
        with sink, _bar(input_path, len(row_lines), record.rows) as bar:
            for chunk in _chunks(input_path, handle, job, after_line=record.last_line):
                written = _classified_lines(classifier, chunk, job, bar).encode("utf-8")
                sink.write(written)
                sink.flush()
                os.fsync(sink.fileno())  # the lines are on disk before the record counts them
                digest.update(written)
                record = record.advanced(len(chunk), chunk[-1].line, sink.tell(), digest.hexdigest())
                write_record(record_path, record)
    except ValueError:
        # Bad options (every row was checked before): rerunning cannot get further. Only a job
        # that committed nothing is removed; committed rows stay, with their record.
        if record.rows == 0:
            output.unlink(missing_ok=True)
            record_path.unlink(missing_ok=True)
        raise
    record_path.unlink()  # the job is complete: the output stands alone
    return record.rows
