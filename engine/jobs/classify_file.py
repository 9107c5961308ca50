"""Classify a whole file in constant memory: stream rows in chunks, write JSON lines, show progress."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

from .files import InputFileError, chunked, count_lines, open_input, read_rows, resolve_output

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


def classify_file(
    classifier: Any,
    input_path: Path,
    output_path: Path | None,
    text_field: str,
    chunk_size: int,
    options: dict[str, Any],
) -> int:
    """Write one JSON line per input row: {"line", "text", "labels", "scores"}; returns the row count.

    A file output goes to ``<output>.partial``, renamed into place at the end, so a failure never
    leaves a truncated result that looks complete (the partial file is removed). Standard output,
    devices and pipes are written as rows are classified.
    """
    target = resolve_output(output_path, input_path)
    handle = open_input(input_path)
    partial = target.partial
    sink: IO[str] = sys.stdout if target.path is None else open(partial or target.path, "w", encoding="utf-8")
    count = 0
    # Rows, not bytes; no bar at all when stderr is a file or pipe (no \r noise in logs), and then
    # no extra pass over the file to count its lines either.
    shown = sys.stderr.isatty()
    bar = progress_bar(total=(count_lines(input_path) or None) if shown else None, unit="rows", desc=input_path.name,
                       file=sys.stderr, disable=not shown, smoothing=0.1)
    try:
        with handle, bar:
            for rows in chunked(read_rows(input_path, handle, text_field), chunk_size):
                lines = []
                for start in range(0, len(rows), PROGRESS_STEP):
                    step = rows[start : start + PROGRESS_STEP]
                    results = classifier([r.text for r in step], legacy=True, **options)
                    for row, result in zip(step, results):
                        record = {"line": row.line, "text": row.text, "labels": result["labels"], "scores": result["scores"]}
                        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
                    bar.update(len(step))
                sink.writelines(lines)
                count += len(rows)
        if count == 0:
            raise InputFileError(f"{input_path}: no texts found")
    except BaseException:
        if sink is not sys.stdout:
            sink.close()
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
    if sink is not sys.stdout:
        sink.close()
    else:
        sink.flush()
    if partial is not None and target.path is not None:
        partial.replace(target.path)
    return count
