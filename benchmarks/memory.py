"""Peak memory of a fresh process per workload: zsc int8 against the torch pipeline (make bench-memory).

    python benchmarks/memory.py            # 240 AG News texts x 4 labels, 16 long texts x 5 labels
    python benchmarks/memory.py --quick    # tiny sizes for the smoke test

`make bench`'s cold start measures one short call. Batches hold more activations, so this runs
each workload in its own process and reads the kernel's high-water mark (VmHWM) at the end.
Writes benchmarks/results/<date>-<host>-memory.{json,md}.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import contenders as C
import measure as M
import results_io as R
from tqdm.auto import tqdm

LOADERS = {
    "zsc int8": "from zsc.engine import ZeroShotClassifier; c = ZeroShotClassifier.default(threads={threads}); "
                "run = lambda texts, labels: c(texts, labels)",
    "transformers torch": "import torch; torch.set_num_threads({threads}); from transformers import pipeline; "
                          "p = pipeline('zero-shot-classification', model={model!r}, device=-1); "
                          "run = lambda texts, labels: p(texts, candidate_labels=labels, batch_size=8)",
}
WORKLOADS = {  # name -> expression giving (texts, labels), evaluated with benchmarks/ on sys.path
    "1 short text x 3 labels": "([W.LATENCY_TEXT], W.LATENCY_LABELS)",
    "{texts} AG News texts x 4 labels": "W.ag_news({texts})",
    "{long} long texts x 5 labels": "(W.long_texts({long}), W.ag_news(1)[1] + ['Health'])",
}


def peak_mb(loader: str, workload: str) -> float:
    code = (
        "import workloads as W; "
        f"{loader}; texts, labels = {workload}; run(texts, labels); "
        f"print({M.PEAK_RSS_KB})"
    )
    # Run from benchmarks/, so that `import workloads` finds this folder's module as a script run does.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=Path(__file__).parent)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return int(result.stdout.split()[-1]) / 1024


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts", type=int, default=240)
    parser.add_argument("--long-texts", type=int, default=16)
    args = parser.parse_args()
    if args.quick:
        args.texts, args.long_texts = 4, 1
    rows: dict[str, dict[str, float]] = {}
    # --quick (the test smoke) checks one workload: each costs a fresh torch process.
    workloads = dict(list(WORKLOADS.items())[:1]) if args.quick else WORKLOADS
    jobs = [(stack, name.format(texts=args.texts, long=args.long_texts), expression.format(texts=args.texts, long=args.long_texts))
            for name, expression in workloads.items() for stack in LOADERS]
    for stack, name, expression in tqdm(jobs, desc="memory"):
        loader = LOADERS[stack].format(threads=args.threads, model=str(C.MINILM))
        rows.setdefault(name, {})[stack] = peak_mb(loader, expression)
    lines = [f"### Peak RSS of a fresh process per workload (MB, VmHWM; {args.threads} threads, default batch sizes)", "",
             "| workload | " + " | ".join(LOADERS) + " |", "|---|" + "---|" * len(LOADERS)]
    lines += [f"| {name} | " + " | ".join(f"{row[s]:.0f}" for s in LOADERS) + " |" for name, row in rows.items()]
    R.write_results(R.results_base(args.out, "memory", args.quick), {"threads": args.threads, "peak_rss_mb": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
