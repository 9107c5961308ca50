"""What every benchmark script shares: its common options and where and how it writes results."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
# Set by avx2_kernels.py: which kernels onnxruntime runs when they are not this CPU's own.
KERNELS_ENV = "ZSC_BENCH_KERNELS"


def kernels() -> str:
    """What a result records beside the CPU flags: "native", or the kernels avx2_kernels.py forced."""
    return os.environ.get(KERNELS_ENV, "native")


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with --threads, --out and --quick; scripts add their own sizes."""
    made = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    made.add_argument("--threads", type=int, default=2)
    made.add_argument("--out", type=Path, default=RESULTS)
    made.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, measures nothing")
    return made


def model_directory(value: str) -> tuple[str, Path]:
    """``--also NAME=DIR``: a zsc model directory measured beside a script's own contenders (an
    earlier export, to compare before and after in one run)."""
    name, sep, folder = value.partition("=")
    if not sep or not name or not (Path(folder) / "zsc.json").is_file():
        raise argparse.ArgumentTypeError(f"--also takes NAME=DIR, DIR a zsc model directory; got {value!r}")
    return name, Path(folder)


def add_also(made: argparse.ArgumentParser) -> None:
    made.add_argument("--also", type=model_directory, action="append", default=[], metavar="NAME=DIR",
                      help="a zsc model directory measured beside the others, as NAME (repeatable)")


def results_base(out: Path, kind: str = "", quick: bool = False) -> Path:
    """<out>/<date>-<host>[-kind][-quick], without a suffix; the folder is created."""
    out.mkdir(parents=True, exist_ok=True)
    forced = "avx2-kernels" if kernels() != "native" else ""
    parts = [datetime.date.today().isoformat(), socket.gethostname().split(".")[0], kind, forced, "quick" if quick else ""]
    return out / "-".join(p for p in parts if p)


def write_results(base: Path, data: dict[str, Any], markdown: str) -> None:
    """<base>.json and <base>.md, and the Markdown on stdout."""
    base.with_suffix(".json").write_text(json.dumps(data, indent=2))
    base.with_suffix(".md").write_text(markdown)
    print(markdown)
