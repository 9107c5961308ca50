"""Where a table job (``--engine ray`` or ``spark``) reads and writes: one rule for both engines.
``--input`` is a file, a folder or a glob of .jsonl, .csv or .parquet files of one type;
``--output`` is a new or empty folder of Parquet or JSON-lines files."""

from __future__ import annotations

import glob
from pathlib import Path

from .inputs import InputError

INPUT_SUFFIXES = (".parquet", ".jsonl", ".json", ".csv")
OUTPUT_FORMATS = ("parquet", "jsonl")


def input_paths(pattern: str) -> tuple[list[str], str]:
    """The paths ``pattern`` names (a glob expanded; folders kept as folders) and their one suffix."""
    paths = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
    if not paths:
        raise InputError(f"--input {pattern}: no files match")
    suffixes = {Path(p).suffix.lower() for p in paths if not Path(p).is_dir()}
    if len(suffixes) > 1:
        raise InputError(f"--input {pattern}: mixed file types {sorted(suffixes)}; give one type")
    if not suffixes:  # folders: the type of the files inside
        suffixes = {Path(f).suffix.lower() for p in paths for f in Path(p).iterdir() if f.is_file()}
    if len(suffixes) != 1 or next(iter(suffixes)) not in INPUT_SUFFIXES:
        raise InputError(f"--input {pattern}: use .jsonl, .csv or .parquet files (found {sorted(suffixes)})")
    return paths, next(iter(suffixes))


def check_output(output: Path, output_format: str, engine: str = "ray") -> None:
    """Refuse an output that would mix with other files, before any work."""
    if output_format not in OUTPUT_FORMATS:
        raise InputError(f"output format {output_format!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InputError(f"--output {output}: must be a new or empty folder with --engine {engine}")
