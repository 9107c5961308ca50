"""Scale-out: the in-process file job against Ray Data and Spark on the same cores, whole commands timed.

    python benchmarks/scale.py [--rows 10000] [--quick]

Each contender is the `zsc classify` command a user would run on --rows AG News rows x 4 labels
(the 7,600 test rows, then repeated from the start), embedded model, timed from launch to exit:
  in-process   zsc classify --input rows.jsonl --output out.jsonl --threads 2
  Ray 1x2      zsc classify ... --engine ray --actors 1 --cpus-per-actor 2   (starts a local Ray)
  Ray 2x1      zsc classify ... --engine ray --actors 2 --cpus-per-actor 1
  Spark        zsc classify ... --engine spark --master local[2]   (a local Spark, 2 task slots)
Each figure includes starting the engine (a local Ray cluster and its actors, a Spark session and
its Python workers) as a user pays it; start-up is also measured alone, by the same command on 8
rows, and rows/s after start-up = rows / (wall - start-up). Checks that every contender wrote the
same labels and scores. Writes results/<date>-<host>-scale.{json,md}.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results_io as R
import workloads as W
from tqdm import tqdm

CONTENDERS = {
    "in-process (2 threads)": ["--threads", "2"],
    "Ray, 1 actor x 2 threads": ["--engine", "ray", "--actors", "1", "--cpus-per-actor", "2"],
    "Ray, 2 actors x 1 thread": ["--engine", "ray", "--actors", "2", "--cpus-per-actor", "1"],
    "Spark, local[2] x 1 thread": ["--engine", "spark", "--master", "local[2]", "--threads", "1"],
}
STARTUP_ROWS = 8


def write_rows(path: Path, count: int) -> list[str]:
    texts, labels = W.ag_news(7600)
    with open(path, "w", encoding="utf-8") as handle:
        for i, text in zip(range(count), itertools.cycle(texts)):
            handle.write(json.dumps({"id": i, "text": text}) + "\n")
    return labels


def read_results(output: Path) -> dict[int, tuple[list[str], list[float]]]:
    """id -> (labels, scores) from a JSONL file (in-process) or a folder of Parquet files (Ray)."""
    if output.is_dir():
        import pyarrow.parquet as pq

        rows = pq.read_table(output).to_pylist()
        if rows and "zsc_ranking" in rows[0]:  # Spark's columns: the ranking as {label, score} structs
            return {r["id"]: ([x["label"] for x in r["zsc_ranking"]], [x["score"] for x in r["zsc_ranking"]]) for r in rows}
        return {r["id"]: (list(r["labels"]), list(r["scores"])) for r in rows}
    results = {}
    for line in open(output, encoding="utf-8"):
        r = json.loads(line)
        results[r["line"] - 1] = (r["labels"], r["scores"])  # one row per line: id = line - 1
    return results


def timed(source: Path, labels: list[str], output: Path, options: list[str], name: str) -> float:
    """Seconds from launch to exit of `zsc classify` on ``source``."""
    command = [sys.executable, "-m", "zsc.engine.cli", "classify", "--input", str(source), "--labels", ",".join(labels),
               "--output", str(output), *options]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    if args.quick:  # checks the script: the 8-row start-up run is the whole run
        args.rows = STARTUP_ROWS
    from zsc.engine.cpu import flags_summary

    results: dict = {"rows": args.rows, "labels": 4, "cpu_flags": flags_summary(), "contenders": {}}
    outputs = {}
    with tempfile.TemporaryDirectory() as folder:
        source, small = Path(folder) / "rows.jsonl", Path(folder) / "startup.jsonl"
        labels = write_rows(source, args.rows)
        write_rows(small, STARTUP_ROWS)
        # --quick checks the script: one Ray contender is enough (each starts a local cluster).
        contenders = {k: v for k, v in CONTENDERS.items() if not (args.quick and "1 actor" in k)}
        for name, options in tqdm(contenders.items(), desc="contenders", unit="run"):
            output = Path(folder) / name.split()[0].replace(",", "").lower()
            output = output.with_suffix(".jsonl") if "--engine" not in options else output.with_name(output.name + str(len(outputs)))
            wall = timed(source, labels, output, options, name)
            startup = wall if args.rows == STARTUP_ROWS else timed(small, labels, Path(folder) / f"startup{len(outputs)}{output.suffix}", options, name)
            outputs[name] = read_results(output)
            after = args.rows / (wall - startup) if wall > startup else None  # None: start-up is the whole run
            results["contenders"][name] = {"wall_s": wall, "rows_per_s": args.rows / wall, "startup_s": startup,
                                           "rows_per_s_after_startup": after}
    reference = outputs["in-process (2 threads)"]
    for name, got in outputs.items():
        same = got.keys() == reference.keys() and all(got[i][0] == reference[i][0] for i in reference)
        worst = max((abs(a - b) for i in reference for a, b in zip(got[i][1], reference[i][1])), default=0.0)
        results["contenders"][name] |= {"same_labels": same, "max_abs_score_diff": worst,
                                        "vs_in_process": results["contenders"][name]["rows_per_s"] / results["contenders"]["in-process (2 threads)"]["rows_per_s"]}
    lines = [f"### Scale-out: {args.rows} AG News rows x 4 labels, embedded int8 model, 2 cores (CPU flags: {results['cpu_flags']})", "",
             "| contender | wall s | rows/s | vs in-process | start-up s (8 rows) | rows/s after start-up | same labels | max abs score diff |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results["contenders"].items():
        after = "–" if r["rows_per_s_after_startup"] is None else f"{r['rows_per_s_after_startup']:.1f}"
        lines.append(f"| {name} | {r['wall_s']:.1f} | {r['rows_per_s']:.1f} | {r['vs_in_process']:.2f} | {r['startup_s']:.1f} | "
                     f"{after} | {r['same_labels']} | {r['max_abs_score_diff']:.1e} |")
    R.write_results(R.results_base(args.out, "scale", args.quick), results, "\n".join(lines) + "\n")
    if not all(r["same_labels"] and r["max_abs_score_diff"] == 0 for r in results["contenders"].values()):
        sys.exit("the contenders disagree")


if __name__ == "__main__":
    main()
