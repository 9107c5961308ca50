"""Classify a whole file in constant memory: stream rows in chunks, write JSON lines, show progress."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .fileio import InputFileError, chunked, file_position, open_input, read_rows


def classify_file(
    classifier: Any,
    input_path: Path,
    output_path: Path | None,
    text_field: str,
    chunk_size: int,
    options: dict[str, Any],
) -> int:
    """Write one JSON line per input row: {"line", "text", "labels", "scores"}; returns the row count.

    Output goes to a temporary file renamed into place at the end, so a failure never leaves
    a truncated result that looks complete.
    """
    from tqdm.auto import tqdm

    handle = open_input(input_path)
    partial = output_path.with_name(output_path.name + ".partial") if output_path else None
    sink = open(partial, "w", encoding="utf-8") if partial else sys.stdout
    count = 0
    try:
        with handle, tqdm(total=os.path.getsize(input_path), unit="B", unit_scale=True, desc=input_path.name, file=sys.stderr) as bar:
            for rows in chunked(read_rows(input_path, handle, text_field), chunk_size):
                results = classifier([r.text for r in rows], legacy=True, **options)
                for row, result in zip(rows, results):
                    record = {"line": row.line, "text": row.text, "labels": result["labels"], "scores": result["scores"]}
                    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += len(rows)
                bar.update(file_position(handle) - bar.n)
        if count == 0:
            raise InputFileError(f"{input_path}: no texts found")
    except BaseException:
        if partial:
            sink.close()
            partial.unlink(missing_ok=True)
        raise
    if partial and output_path:
        sink.close()
        partial.replace(output_path)
    return count
