"""The embedded default model on a GPU host: what provider="auto" picks, and what forcing CUDA costs.

    python benchmarks/gpu.py --texts-file T.jsonl --out DIR      # on the GPU machine (onnxruntime-gpu)
    python benchmarks/gpu.py --quick                             # dry run on a CPU-only machine

For provider "auto", "cpu" and (where onnxruntime offers it) "cuda": the provider actually used,
throughput (texts x 4 labels, median of interleaved rounds) and single-text latency (p50/p99 of
1 text x 4 labels); the largest score difference of each provider against "cpu". Writes
<date>-<host>-gpu.{json,md} with the GPU's name and the CPU flags. Needs no torch and no
../shared (the texts come from --texts-file, or built-in sentences).

This is the first step of the GPU issue: it checks that "auto" keeps int8 graphs off CUDA. The
fp16-per-provider, I/O binding and the torch comparison are not in it yet.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import measure as M  # noqa: E402
import numpy as np  # noqa: E402
import results_io as R  # noqa: E402

LABELS = ["World", "Sports", "Business", "Sci/Tech"]
BUILT_IN = [
    "Stocks fell sharply as investors worried about rising interest rates.",
    "The striker scored twice in the second half to win the cup.",
    "Scientists observed a new comet passing close to the sun.",
    "The parliament passed the budget after a long debate.",
]


def gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "none"
    except (OSError, subprocess.SubprocessError):
        return "none"


def read_texts(path: Path | None, count: int) -> list[str]:
    if path is None:
        return (BUILT_IN * (count // len(BUILT_IN) + 1))[:count]
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(count))]


def scores(classifier: Any, texts: list[str]) -> np.ndarray:
    results = classifier(texts, LABELS)
    return np.array([[{p["label"]: p["score"] for p in r}[label] for label in LABELS] for r in results])


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts-file", type=Path)
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-calls", type=int, default=50)
    args = parser.parse_args()
    if args.quick:
        args.texts, args.rounds, args.latency_calls = 8, 1, 3
    import onnxruntime as ort

    from zsc.engine import ZeroShotClassifier, cpu_flags

    texts = read_texts(args.texts_file, args.texts)
    providers = ["auto", "cpu"] + (["cuda"] if "CUDAExecutionProvider" in ort.get_available_providers() else [])
    rows: dict[str, dict[str, Any]] = {}
    classifiers = {}
    for provider in providers:
        try:
            classifier = ZeroShotClassifier.default(provider=provider, threads=args.threads)
            classifier(texts[:2], LABELS)  # warm-up: kernel choice, arena growth
            classifiers[provider] = classifier
            rows[provider] = {"compute_type": classifier.compute_type, "precision": classifier.precision,
                              "session_providers": classifier.session.session.get_providers()}
        except Exception as exc:  # a provider that cannot run the graph is a result too
            rows[provider] = {"error": f"{type(exc).__name__}: {exc}"}
    runs = {p: functools.partial(c, texts, LABELS) for p, c in classifiers.items()}
    times = M.interleaved(runs, args.rounds)
    reference = scores(classifiers["cpu"], texts)
    for provider, classifier in classifiers.items():
        one = functools.partial(classifier, texts[0], LABELS)
        latency = [M.timed(one) for _ in range(args.latency_calls)]
        rows[provider] |= {
            "pairs_per_s": len(texts) * len(LABELS) / statistics.median(times[provider]),
            "latency": M.percentiles(latency),
            "max_abs_score_diff_vs_cpu": float(np.abs(scores(classifier, texts) - reference).max()),
        }
    device = gpu_name()
    flags = " ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in cpu_flags()) or "unknown"
    lines = [f"### Embedded default (int8) on a GPU host: {device}; CPU flags: {flags}; onnxruntime {ort.__version__}",
             f"{len(texts)} texts x {len(LABELS)} labels, median of {args.rounds} interleaved rounds; latency: 1 text x 4 labels, "
             f"{args.latency_calls} calls", "",
             "| provider asked | ran on | pairs/s | latency p50 ms | p99 ms | max \\|Δscore\\| vs cpu |", "|---|---|---|---|---|---|"]
    for provider, row in rows.items():
        if "error" in row:
            lines.append(f"| {provider} | failed: {row['error'][:120]} | | | | |")
        else:
            lines.append(f"| {provider} | {row['compute_type']} | {row['pairs_per_s']:.0f} | {row['latency']['p50_ms']:.1f} | "
                         f"{row['latency']['p99_ms']:.1f} | {row['max_abs_score_diff_vs_cpu']:.2g} |")
    data = {"gpu": device, "cpu_flags": flags, "onnxruntime": ort.__version__, "texts": len(texts), "providers": rows}
    R.write_results(R.results_base(args.out, "gpu", args.quick), data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
