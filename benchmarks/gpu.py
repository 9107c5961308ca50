"""The GPU comparison of issue #8, in one command (< 5 minutes on an H100/H200):

    python benchmarks/gpu.py --texts-file T.jsonl [--model DIR ...] [--hf-model DIR] [--profile] --out DIR
    python benchmarks/gpu.py --quick                  # dry run on a CPU-only machine: checks the script

Contenders, all on the same texts (AG News x its 4 labels), throughput as the median of
interleaved rounds:
- zsc, embedded default, provider "auto" (on a GPU host: its fp16 graph over the 8-bit weights),
  with the provider's feeding and with each GPU feeding switch turned off in turn (length
  buckets, I/O binding, prefetch), with the CPU's batch budget, and with 1,024-pair batches;
- zsc, embedded default on the CPU (int8), the baseline that "auto" replaced;
- each ``--model`` directory with ``precision="auto"`` (e.g. an fp16 export of the same model);
- transformers' pipeline on the GPU, torch fp32 and fp16, batch 256 (``--hf-model``, where
  torch with CUDA is installed); optimum's ORTModel on CUDA for each ``--model`` holding an fp32
  or fp16 graph (where optimum is installed).
Latency is 1 text x 4 labels, p50/p99 per contender. Agreement is top-1 and max |score
difference| against torch fp32 (else against zsc's own fp32 graph, else the CPU int8 run).
zsc's own cost per small call (onnxruntime's run replaced by a constant) is measured per
feeding, to separate host time from device time. ``--profile`` adds onnxruntime's profile of 20 latency calls of the default on CUDA: nodes per
provider and the slowest node types, to find what a small call spends its time on.
Writes <date>-<host>-gpu.{json,md} with the GPU's name and the CPU flags.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import contenders as C
import measure as M
import numpy as np
import results_io as R
import workloads as W

LABELS = W.AG_NEWS_LABELS
BUILT_IN = [
    "Stocks fell sharply as investors worried about rising interest rates.",
    "The striker scored twice in the second half to win the cup.",
    "Scientists observed a new comet passing close to the sun.",
    "The parliament passed the budget after a long debate.",
]
Classify = Callable[[list[str]], list[list[dict[str, Any]]]]


def gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "none"
    except (OSError, subprocess.SubprocessError):
        return "none"


def read_texts(path: Path | None, count: int) -> list[str]:
    if path is None:
        return (BUILT_IN * (count // len(BUILT_IN) + 1))[:count]
    return W.texts_file(path, count)


def score_matrix(results: list[list[dict[str, Any]]]) -> np.ndarray:
    return np.array([[{p["label"]: p["score"] for p in r}[label] for label in LABELS] for r in results])


def zsc_contenders(models: list[Path], threads: int) -> dict[str, tuple[Classify, dict[str, Any]]]:
    """name -> (classify texts, facts), for every zsc setting that loads here."""
    from zsc.engine import PROVIDER_FEEDING, ZeroShotClassifier, default_model_path

    default = default_model_path()
    cuda, cpu = PROVIDER_FEEDING["cuda"], PROVIDER_FEEDING["cpu"]
    settings: list[tuple[str, Path, dict[str, Any]]] = [("zsc default, auto", default, {})]
    settings += [(f"zsc default, auto, {name}", default, {"feeding": feeding}) for name, feeding in (
        ("no length buckets", replace(cuda, pad_multiple=1)),
        ("no I/O binding", replace(cuda, io_binding=False)),
        ("no prefetch", replace(cuda, prefetch=False)),
        ("CPU batch budget", replace(cuda, batch_size=cpu.batch_size, max_batch_tokens=cpu.max_batch_tokens)),
        ("batch 1024", replace(cuda, batch_size=1024, max_batch_tokens=131072)),
    )]
    settings.append(("zsc default, cpu", default, {"provider": "cpu"}))
    settings.append(("zsc default, fp16 graph", default, {"precision": "fp16"}))  # on a CPU-only host: its agreement
    settings += [(f"zsc {path.name}, auto", path, {}) for path in models]
    built: dict[str, tuple[Classify, dict[str, Any]]] = {}
    for name, path, options in settings:
        try:
            classifier = ZeroShotClassifier.from_pretrained(path, threads=threads, **({"provider": "auto"} | options))
        except Exception as exc:  # a setting that cannot load here is a result too
            print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        if "feeding" in options and classifier.compute_type != "cuda":
            continue  # GPU feeding switches mean nothing on a CPU
        facts = {"precision": classifier.precision, "compute_type": classifier.compute_type, "why": classifier.session.reason,
                 "batch_size": classifier.batch_size, "max_batch_tokens": classifier.max_batch_tokens,
                 "feeding": vars(classifier.feeding)}
        built[name] = (functools.partial(classifier, candidate_labels=LABELS), facts)
    return built


def pipeline_classify(pipe: Any) -> Classify:
    """A transformers zero-shot pipeline as a contender: AG News labels, batch 256."""
    return lambda texts: C.pipeline_result(pipe(texts, candidate_labels=LABELS, batch_size=256))


def torch_contenders(hf_model: Path | None) -> dict[str, tuple[Classify, dict[str, Any]]]:
    """transformers' pipeline on the GPU, fp32 and fp16, where torch has CUDA."""
    if hf_model is None:
        return {}
    try:
        import torch
        from transformers import pipeline
    except ImportError as exc:
        print(f"torch pipeline skipped: {exc}", file=sys.stderr)
        return {}
    if not torch.cuda.is_available():
        print("torch pipeline skipped: torch has no CUDA here", file=sys.stderr)
        return {}
    built = {}
    for dtype in ("float32", "float16"):
        pipe = pipeline("zero-shot-classification", model=str(hf_model), device=0, dtype=getattr(torch, dtype))

        built[f"transformers pipeline, torch {dtype}, batch 256"] = (pipeline_classify(pipe), {"precision": dtype, "compute_type": "cuda"})
    return built


def optimum_contenders(models: list[Path], hf_model: Path | None) -> dict[str, tuple[Classify, dict[str, Any]]]:
    """optimum's ORTModel on CUDA (through transformers' pipeline) for each --model graph it can load."""
    if not models or hf_model is None:
        return {}
    try:
        from optimum.onnxruntime import ORTModelForSequenceClassification
        from transformers import AutoTokenizer, pipeline
    except ImportError as exc:
        print(f"optimum skipped: {exc}", file=sys.stderr)
        return {}
    built = {}
    for path in models:
        manifest = json.loads((path / "zsc.json").read_text())
        try:
            model = ORTModelForSequenceClassification.from_pretrained(path, file_name=manifest["model_file"], provider="CUDAExecutionProvider")
            pipe = pipeline("zero-shot-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(hf_model))
        except Exception as exc:
            print(f"optimum on {path.name} skipped: {exc}", file=sys.stderr)
            continue

        built[f"optimum ORTModel {path.name}, CUDA"] = (pipeline_classify(pipe), {"precision": manifest["precision"], "compute_type": "cuda"})
    return built


def cuda_profile(threads: int, text: str, calls: int = 20) -> dict[str, Any]:
    """onnxruntime's profile of ``calls`` single-text calls of the default on CUDA: where a small call goes."""
    from zsc.engine import default_model_path

    classifier = M.profiled_classifier(default_model_path(), "auto", threads)
    if classifier.compute_type != "cuda":
        return {"skipped": "the default does not run on CUDA here"}
    warm_up = 5
    for _ in range(calls + warm_up):
        classifier(text, LABELS)
    profile = M.op_profile(classifier, skip_runs=warm_up)
    return {"model_run_ms_p50": profile["model_run_ms_p50"], "node_runs_per_provider": profile["node_runs_per_provider"],
            "slowest_node_types_ms": dict(list(profile["node_ms_by_type"].items())[:10])}


def host_cost_ms(threads: int, text: str, calls: int) -> dict[str, float]:
    """p50 ms of one text x 4 labels with onnxruntime's run replaced by a constant: what zsc itself
    spends per small call (validation, tokenising, planning, scoring), per feeding."""
    from unittest import mock

    from zsc.engine import PROVIDER_FEEDING, ZeroShotClassifier
    from zsc.engine.session import GraphSession

    def constant(session: Any, feeds: dict[str, np.ndarray], io_binding: bool = False) -> np.ndarray:
        """Zeros of the graph's output shape: (batch, 3) logits, or the embedder's (batch, tokens, hidden) states."""
        shape = session.inference.get_outputs()[0].shape
        if len(shape) == 3:
            return np.zeros((*feeds["input_ids"].shape, int(shape[-1])), np.float32)
        return np.zeros((feeds["input_ids"].shape[0], 3), np.float32)

    out = {}
    for name, feeding in PROVIDER_FEEDING.items():
        clf = ZeroShotClassifier.default(provider="cpu", threads=threads, feeding=feeding)
        with mock.patch.object(GraphSession, "run", constant):
            for _ in range(20):
                clf(text, LABELS)
            out[f"{name} feeding"] = statistics.median(M.timed(functools.partial(clf, text, LABELS)) for _ in range(calls)) * 1000
    return out


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts-file", type=Path, help="JSON lines with a 'text' field (AG News test)")
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-calls", type=int, default=100)
    parser.add_argument("--model", type=Path, action="append", default=[], help="more zsc model directories (e.g. an fp16 export)")
    parser.add_argument("--hf-model", type=Path, help="the Hugging Face checkpoint, for transformers' pipeline on the GPU")
    parser.add_argument("--profile", action="store_true", help="onnxruntime's profile of small calls on CUDA")
    args = parser.parse_args()
    if args.quick:
        args.texts, args.rounds, args.latency_calls = 8, 1, 3
    import onnxruntime as ort

    from zsc.engine.cpu import flags_summary

    texts = read_texts(args.texts_file, args.texts)
    contenders = zsc_contenders(args.model, args.threads) | torch_contenders(args.hf_model) | optimum_contenders(args.model, args.hf_model)
    for classify, _ in contenders.values():
        classify(texts[:64])  # warm-up: kernels, arena, every length bucket a real run meets first
    times = M.interleaved({name: functools.partial(classify, texts) for name, (classify, _) in contenders.items()}, args.rounds)
    scores = {name: score_matrix(classify(texts)) for name, (classify, _) in contenders.items()}
    reference = next((n for n in scores if "torch float32" in n), None) or next(
        (n for n, (_, f) in contenders.items() if f.get("precision") == "fp32"), "zsc default, cpu")
    rows: dict[str, dict[str, Any]] = {}
    for name, (classify, facts) in contenders.items():
        one = functools.partial(classify, texts[:1])
        for _ in range(10):
            one()
        latency = [M.timed(one) for _ in range(args.latency_calls)]
        rows[name] = facts | {
            "pairs_per_s": len(texts) * len(LABELS) / statistics.median(times[name]),
            "latency": M.percentiles(latency),
            "top1_agreement": float((scores[name].argmax(1) == scores[reference].argmax(1)).mean()),
            "max_abs_score_diff": float(np.abs(scores[name] - scores[reference]).max()),
        }
    best_torch = max((r["pairs_per_s"] for n, r in rows.items() if n.startswith("transformers")), default=None)
    device = gpu_name()
    flags = flags_summary()
    lines = [f"### zsc on a GPU host: {device}; CPU flags: {flags}; onnxruntime {ort.__version__}",
             f"{len(texts)} texts x {len(LABELS)} labels, median of {args.rounds} interleaved rounds; latency: 1 text x "
             f"{len(LABELS)} labels, {args.latency_calls} calls; agreement against {reference}", "",
             "| contender | graph, provider | pairs/s | x best torch | latency p50 ms | p99 ms | top-1 agreement | max \\|Δscore\\| |",
             "|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        speedup = f"{row['pairs_per_s'] / best_torch:.1f}" if best_torch else "n/a"
        lines.append(f"| {name} | {row['precision']}, {row['compute_type']} | {row['pairs_per_s']:,.0f} | {speedup} | "
                     f"{row['latency']['p50_ms']:.1f} | {row['latency']['p99_ms']:.1f} | {row['top1_agreement']:.3f} | "
                     f"{row['max_abs_score_diff']:.2g} |")
    data: dict[str, Any] = {"gpu": device, "cpu_flags": flags, "onnxruntime": ort.__version__, "texts": len(texts),
                            "reference": reference, "contenders": rows}
    data["host_cost_ms_p50"] = host_cost_ms(args.threads, texts[0], max(args.latency_calls, 100))
    lines += ["", "zsc's own cost per single-text call, onnxruntime's run replaced by a constant (p50 ms): "
              + ", ".join(f"{k} {v:.2f}" for k, v in data["host_cost_ms_p50"].items())]
    if args.profile:
        data["cuda_profile"] = cuda_profile(args.threads, texts[0])
        lines += ["", "onnxruntime profile of small calls on CUDA: " + json.dumps(data["cuda_profile"])]
    R.write_results(R.results_base(args.out, "gpu", args.quick), data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
