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
from pathlib import Path
from typing import IO, Any

from ..defaults import DEFAULT_LONG_TEXT, DEFAULT_SCORING
from ..inputs import DEFAULT_TEMPLATE, normalise_labels
from .files import MAX_ROW_BYTES, InputFileError, Row, checked_digest, chunked, is_regular_file, open_input, read_rows, resolve_output
from .progress import JobRecord, check_same_job, file_digest, progress_path, read_record, write_record

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


def _job_description(classifier: Any, input_sha256: str, text_field: str, options: dict[str, Any]) -> dict[str, Any]:
    """What a job computes; a resumed job must match it exactly."""
    model_dir = classifier.model_dir
    manifest = model_dir.manifest
    # Every file's digest: a directory's graphs can share a weights file, so no single graph's
    # digest identifies the model. Which of its graphs runs matters as much.
    model_sha256 = hashlib.sha256(json.dumps(manifest.files, sort_keys=True).encode()).hexdigest() if manifest.files \
        else file_digest(model_dir.model_path)
    return {
        "input_sha256": input_sha256,
        "model_sha256": model_sha256,
        "precision": classifier.precision,
        "labels": normalise_labels(options["candidate_labels"]),
        "template": options.get("hypothesis_template", DEFAULT_TEMPLATE),
        "multi_label": bool(options.get("multi_label", False)),
        "scoring": options.get("scoring", DEFAULT_SCORING),
        "prefilter_top_k": options.get("prefilter_top_k"),
        "long_text": options.get("long_text", DEFAULT_LONG_TEXT),
        "window_tokens": options.get("window_tokens"),
        "text_field": text_field,
    }


def _classified_lines(classifier: Any, rows: list[Row], options: dict[str, Any], bar: Any) -> str:
    lines = []
    for start in range(0, len(rows), PROGRESS_STEP):
        step = rows[start : start + PROGRESS_STEP]
        results = classifier([r.text for r in step], legacy=True, **options)
        for row, result in zip(step, results):
            record = {"line": row.line, "text": row.text, "labels": result["labels"], "scores": result["scores"]}
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        bar.update(len(step))
    return "".join(lines)


def classify_file(
    classifier: Any,
    input_path: Path,
    output_path: Path | None,
    text_field: str,
    chunk_size: int,
    options: dict[str, Any],
    resume: bool = False,
    max_row_bytes: int = MAX_ROW_BYTES,
) -> int:
    """Write one JSON line per input row: {"line", "text", "labels", "scores"}; returns the rows
    in the output (a resumed job counts the rows it found committed too).

    A regular input file is read once before any work (its digest, and every row checked: a bad
    row stops the job with ``file:line`` before anything is written). A file output is then
    committed chunk by chunk, with ``<output>.progress.json`` beside it until the job ends.
    Killed or interrupted, the output keeps every committed row and ``resume=True`` continues
    after them. Standard output, devices and pipes, and any output of an input that can be read
    only once (a named pipe), are written as rows are classified (no resuming). Rows longer than
    ``max_row_bytes`` are refused.
    """
    target = resolve_output(output_path, input_path)
    handle = open_input(input_path)
    with handle:
        checked = checked_digest(input_path, text_field, max_row_bytes) if is_regular_file(input_path) else None
        if target.path is None or target.direct or checked is None:
            if resume:
                raise InputFileError("--resume needs --output to be a file and --input a regular file (not a pipe)")
            sink = sys.stdout if target.path is None else open(target.path, "w", encoding="utf-8")
            rows = checked[1] if checked else None
            return _stream(classifier, input_path, handle, text_field, chunk_size, options, sink, rows, max_row_bytes)
        digest, rows = checked
        if rows == 0:
            raise InputFileError(f"{input_path}: no texts found")
        job = _job_description(classifier, digest, text_field, options)
        return _committed_job(classifier, input_path, handle, target.path, job, rows, chunk_size, options, resume, max_row_bytes)


def _bar(input_path: Path, rows: int | None, done: int) -> Any:
    # Rows, not bytes; no bar at all when stderr is a file or pipe (no \r noise in logs).
    shown = sys.stderr.isatty()
    return progress_bar(total=rows, initial=done, unit="rows", desc=input_path.name, file=sys.stderr, disable=not shown,
                        smoothing=0.1)


def _chunks(input_path: Path, handle: IO[bytes], text_field: str, chunk_size: int, max_row_bytes: int,
            after_line: int = 0) -> Iterator[list[Row]]:
    rows = (row for row in read_rows(input_path, handle, text_field, max_row_bytes) if row.line > after_line)
    return chunked(rows, chunk_size)


def _stream(classifier: Any, input_path: Path, handle: IO[bytes], text_field: str, chunk_size: int,
            options: dict[str, Any], sink: IO[str], rows: int | None, max_row_bytes: int) -> int:
    count = 0
    try:
        with _bar(input_path, rows, 0) as bar:
            for chunk in _chunks(input_path, handle, text_field, chunk_size, max_row_bytes):
                sink.write(_classified_lines(classifier, chunk, options, bar))
                sink.flush()
                count += len(chunk)
    finally:
        if sink is not sys.stdout:
            sink.close()
    if count == 0:
        raise InputFileError(f"{input_path}: no texts found")
    return count


def _start_or_resume(output: Path, record_path: Path, job: dict[str, Any], resume: bool) -> tuple[JobRecord, IO[bytes]]:
    """The job's record and its output opened for appending at the committed end."""
    if record_path.exists():
        record = read_record(record_path)
        if not resume:
            raise InputFileError(
                f"{output} is an unfinished job ({record.rows} rows done, progress in {record_path}); add --resume to "
                "continue it, or remove both files to start over"
            )
        check_same_job(record, job, record_path)
        sink = open(output, "r+b" if output.exists() else "w+b")
        size = sink.seek(0, os.SEEK_END)
        if size < record.output_bytes:
            sink.close()
            raise InputFileError(f"cannot resume: {output} is shorter ({size} bytes) than its progress record says "
                                 f"({record.output_bytes}); remove both files to start over")
        sink.truncate(record.output_bytes)  # a chunk written after the last record, or torn by a kill
        sink.seek(record.output_bytes)
        return record, sink
    if resume and output.exists():
        raise InputFileError(f"--resume: {output} has no progress record: it is complete (a finished job removes its "
                             "record) or was not written by zsc")
    record = JobRecord(job)
    write_record(record_path, record)  # first, so that a job killed at once is still resumable
    return record, open(output, "wb")


def _committed_job(classifier: Any, input_path: Path, handle: IO[bytes], output: Path, job: dict[str, Any], rows: int,
                   chunk_size: int, options: dict[str, Any], resume: bool, max_row_bytes: int) -> int:
    record_path = progress_path(output)
    record, sink = _start_or_resume(output, record_path, job, resume)
    try:
        with sink, _bar(input_path, rows, record.rows) as bar:
            for chunk in _chunks(input_path, handle, job["text_field"], chunk_size, max_row_bytes, after_line=record.last_line):
                sink.write(_classified_lines(classifier, chunk, options, bar).encode("utf-8"))
                sink.flush()
                os.fsync(sink.fileno())  # the lines are on disk before the record counts them
                record = record.advanced(len(chunk), chunk[-1].line, sink.tell())
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
