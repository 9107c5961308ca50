"""8-bit variants side by side against fp32, in one run (make bench-int8).

    python benchmarks/int8_sensitivity.py            # 1,000 AG News texts x 4 labels, 300 rows per shared set
    python benchmarks/int8_sensitivity.py --quick    # tiny sizes for the smoke test

Every variant is built from the same fused, first-token-pruned fp32 graph (the reference) and
run through zsc.engine. For each: top-1 agreement with fp32 and max/mean |Δscore| on AG News,
accuracy on every single-label shared set, batch invariance (each text alone against all texts
in one batch: the largest score change), pairs/s against fp32 (interleaved rounds, median),
and model size. The variants:
- int8 (per-row activations + SmoothQuant, zsc's default) and the same without SmoothQuant;
- the default with 7-bit weights or 7-bit activations, int8 weights: the two ways to use AVX2's
  fast u8 x s8 kernel without saturating it (the default's uint8 weights take the u8 x u8 one);
- int8-dynamic (onnxruntime's quantize_dynamic, the previous default), batched as usual and
  called one text at a time (the cheap way to determinism, which leaves its error as it is);
- MatMulNBits 8-bit, block 32 and 128, accuracy_level 4 (int8 compute), on the fused graph;
- weights alone rounded to 8 bits (activations fp32): the floor any 8-bit-weight scheme starts from.
Besides the AG News speed, each variant's speed on near-512-token inputs and its p50 latency for
one short text (run.py's other two workloads).
Writes benchmarks/results/<date>-<host>-int8.{json,md} with the CPU flags.
"""

from __future__ import annotations

import functools
import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import contenders as C
import measure as M
import numpy as np
import results_io as R
import workloads as W
from metrics import label_phrase, read_jsonl
from tqdm.auto import tqdm

SINGLE_LABEL_SETS = ("ag_news", "dair_emotion", "sst2", "trec", "banking77", "imdb")


def _with_graph(fp32_dir: Path, name: str, write: Callable[[Path, Path], Any], precision: str) -> Path:
    """A copy of the fp32 model directory whose graph ``write(src, dst)`` produced."""
    from zsc.engine.model_files import MANIFEST_NAME, sha256_file, write_manifest

    out = C.CACHE / name
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(fp32_dir, out)
    write(fp32_dir / "model.onnx", out / "model.onnx")
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    manifest["files"]["model.onnx"] = sha256_file(out / "model.onnx")
    manifest["precision"] = precision
    write_manifest(out / MANIFEST_NAME, manifest)
    return out


CALIBRATION_PAIRS = 512  # the Makefile's --validation-size for the embedded default


def calibration_pairs(quick: bool) -> int:
    """SmoothQuant's calibration pairs: as the default's export, or 32 under --quick (which checks the scripts, measuring nothing)."""
    return 32 if quick else CALIBRATION_PAIRS


def per_row(fp32_dir: Path, smooth: bool, grid: Any = None, calibration_pairs: int = CALIBRATION_PAIRS) -> Path:
    """The per-row graph as export builds it (SmoothQuant calibrated on ``calibration_pairs`` MNLI
    pairs, as the embedded default's export does); ``grid`` (per_row.Grid) narrows weights or
    activations to 7 bits, with int8 weights, for AVX2's u8 x s8 kernel."""
    from zsc.engine.manifest import Manifest
    from zsc.export.calibrate import smoothing_factors
    from zsc.export.per_row import EIGHT_BIT, quantize_per_row
    from zsc.export.presets import resolve_preset

    grid = grid or EIGHT_BIT
    weight_type = resolve_preset("auto").per_row_weights if grid == EIGHT_BIT else "int8"
    suffix = "" if grid == EIGHT_BIT else f"-w{grid.weight_bits}a{grid.activation_bits}"

    def write(src: Path, dst: Path) -> None:
        factors = None
        if smooth:
            manifest = Manifest.from_json(json.loads((fp32_dir / "zsc.json").read_text()))
            nli = read_jsonl(W.NLI_DATA / "mnli_dev_mismatched.jsonl", calibration_pairs)
            factors = smoothing_factors(src, fp32_dir / "tokenizer.json", manifest, [(r["premise"], r["hypothesis"]) for r in nli])
        quantize_per_row(src, dst, weight_type, smoothing=factors, grid=grid)

    return _with_graph(fp32_dir, "int8-per-row" + ("-smooth" if smooth else "") + suffix, write, "int8")


def dynamic(fp32_dir: Path) -> Path:
    from zsc.export.presets import resolve_preset
    from zsc.export.quantize import quantize_int8_dynamic

    return _with_graph(fp32_dir, "int8-dynamic", lambda s, d: quantize_int8_dynamic(s, d, resolve_preset("auto")), "int8-dynamic")


def matmul_nbits(fp32_dir: Path, block: int) -> Path:
    def write(src: Path, dst: Path) -> None:
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

        config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=True, accuracy_level=4, bits=8)
        quantizer = MatMulNBitsQuantizer(onnx.load(str(src)), algo_config=config)
        quantizer.process()
        quantizer.model.save_model_to_file(str(dst))

    return _with_graph(fp32_dir, f"nbits8-b{block}", write, "unknown")  # MatMulNBits: no zsc precision names it


def weights_only(fp32_dir: Path) -> Path:
    def write(src: Path, dst: Path) -> None:
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(src))
        weight_names = {n.input[1] for n in model.graph.node if n.op_type in ("MatMul", "Attention")}
        for index, tensor in enumerate(model.graph.initializer):
            if tensor.name in weight_names and len(tensor.dims) == 2:
                weights = numpy_helper.to_array(tensor).astype(np.float32)
                scale = np.maximum(np.abs(weights).max(axis=0), 1e-12) / 127
                rounded = (np.round(weights / scale) * scale).astype(np.float32)
                model.graph.initializer[index].CopyFrom(numpy_helper.from_array(rounded, tensor.name))
        onnx.save(model, str(dst))

    return _with_graph(fp32_dir, "weights-8bit", write, "fp32")  # fp32 compute, weights rounded to 8-bit


def load(model_dir: Path, threads: int) -> Any:
    from zsc.engine import ZeroShotClassifier

    return ZeroShotClassifier.from_pretrained(model_dir, provider="cpu", threads=threads)


def scores_matrix(classify: Callable[[list[str], list[str]], Any], texts: list[str], labels: list[str]) -> np.ndarray:
    """Scores (texts, labels) in label order, from ranked results."""
    results = classify(texts, labels)
    position = {label: i for i, label in enumerate(labels)}
    out = np.zeros((len(texts), len(labels)))
    for row, ranked in enumerate(results):
        for item in ranked:
            out[row, position[item["label"]]] = item["score"]
    return out


def one_text_per_call(classifier: Any) -> Callable[[list[str], list[str]], Any]:
    return lambda texts, labels: [classifier(text, labels) for text in texts]


def set_accuracy(classify: Callable[[list[str], list[str]], Any], rows_per_set: int) -> dict[str, float]:
    accuracies = {}
    for name in SINGLE_LABEL_SETS:
        folder = W.ZSC_DATA / name
        rows = read_jsonl(folder / "test.jsonl", rows_per_set if name != "banking77" else max(rows_per_set // 3, 4))
        labels = json.loads((folder / "labels.json").read_text())
        phrases = [label_phrase(label) for label in labels]
        scores = scores_matrix(classify, [r["text"] for r in rows], phrases)
        predicted = [labels[i] for i in scores.argmax(1)]
        accuracies[name] = float(np.mean([p == r["label"] for p, r in zip(predicted, rows)]))
    return accuracies


def invariance(classify: Callable[[list[str], list[str]], Any], texts: list[str], labels: list[str]) -> float:
    """Largest score change of a text alone against the same text among all the others."""
    together = scores_matrix(classify, texts, labels)
    alone = np.concatenate([scores_matrix(classify, [t], labels) for t in texts])
    return float(np.abs(together - alone).max())


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--rows-per-set", type=int, default=300)
    parser.add_argument("--speed-texts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--long-texts", type=int, default=8, help="texts near max length (x 5 labels), for speed")
    parser.add_argument("--latency-calls", type=int, default=60, help="one short text x 3 labels, per variant")
    parser.add_argument("--no-nbits", action="store_true", help="skip MatMulNBits (needs onnx_ir)")
    args = parser.parse_args()
    if args.quick:  # MatMulNBits left out too: each variant is a build
        args.texts, args.rows_per_set, args.speed_texts, args.rounds, args.long_texts, args.latency_calls = 6, 4, 4, 1, 1, 2
        args.no_nbits = True
    calibration = calibration_pairs(args.quick)
    from zsc.engine.cpu import flags_summary
    from zsc.engine.loading import default_model_path
    from zsc.export.per_row import Grid

    fp32_dir = C.zsc_fp32_dir()
    builders: dict[str, Callable[[], Path]] = {
        "fp32 (O2, first-token pruned)": lambda: fp32_dir,
        "int8 per-row + SmoothQuant (default)": lambda: per_row(fp32_dir, smooth=True, calibration_pairs=calibration),
        "int8 per-row, no SmoothQuant": lambda: per_row(fp32_dir, smooth=False),
        "int8 per-row + SmoothQuant, 7-bit weights (u8 x s8)": lambda: per_row(fp32_dir, smooth=True, grid=Grid(weight_bits=7),
                                                                               calibration_pairs=calibration),
        "int8 per-row + SmoothQuant, 7-bit activations (u8 x s8)": lambda: per_row(fp32_dir, smooth=True, grid=Grid(activation_bits=7),
                                                                                   calibration_pairs=calibration),
        "int8-dynamic (previous default)": lambda: dynamic(fp32_dir),
        "weights only 8-bit, fp32 activations": lambda: weights_only(fp32_dir),
        # as shipped: on a CPU with 8-bit dot products it runs its int8 twin (the graphs built here have none)
        "the embedded default as shipped": default_model_path,
    }
    if not args.no_nbits:
        builders["MatMulNBits 8-bit, block 32, acc 4"] = lambda: matmul_nbits(fp32_dir, 32)
        builders["MatMulNBits 8-bit, block 128, acc 4"] = lambda: matmul_nbits(fp32_dir, 128)
    texts, labels = W.ag_news(args.texts)
    speed_texts = texts[: args.speed_texts]
    classifiers = {name: load(build(), args.threads) for name, build in tqdm(builders.items(), desc="build variants")}
    calls: dict[str, Callable[[list[str], list[str]], Any]] = {name: c.__call__ for name, c in classifiers.items()}
    dynamic_name = "int8-dynamic (previous default)"
    calls["int8-dynamic, one text per call"] = one_text_per_call(classifiers[dynamic_name])
    reference = scores_matrix(calls["fp32 (O2, first-token pruned)"], texts, labels)
    rows: dict[str, dict[str, Any]] = {}
    for name, classify in tqdm(calls.items(), desc="quality"):
        scores = scores_matrix(classify, texts, labels)
        base = classifiers.get(name, classifiers[dynamic_name])
        rows[name] = {
            "top1_agreement": float((scores.argmax(1) == reference.argmax(1)).mean()),
            "max_abs_score_diff": float(np.abs(scores - reference).max()),
            "mean_abs_score_diff": float(np.abs(scores - reference).mean()),
            "batch_invariance_max_abs_diff": invariance(classify, texts[: min(32, len(texts))], labels),
            "accuracy": set_accuracy(classify, args.rows_per_set),
            # the graph and the weights file it reads, where its weights live outside it (the shipped default)
            "model_mb": sum(p.stat().st_size for p in [base.model_dir.model_path, *base.model_dir.path.glob("*.bin")]) / 1e6,
        }
    with tqdm(total=args.rounds * len(calls), desc="speed") as bar:
        times = M.interleaved({n: functools.partial(f, speed_texts, labels) for n, f in calls.items()}, args.rounds, bar)
    pairs = len(speed_texts) * len(labels)
    fp32_median = statistics.median(times["fp32 (O2, first-token pruned)"])
    for name, values in times.items():
        rows[name]["pairs_per_s"] = pairs / statistics.median(values)
        rows[name]["speed_vs_fp32"] = fp32_median / statistics.median(values)
    # run.py's other two workloads, for the variants themselves (one text per call is latency's own).
    long_inputs, long_labels = W.long_texts(args.long_texts), labels + ["Health"]
    with tqdm(total=args.rounds * len(classifiers) * 2, desc="long inputs, latency") as bar:
        long_times = M.interleaved({n: functools.partial(c, long_inputs, long_labels) for n, c in classifiers.items()}, args.rounds, bar)
        short = {n: functools.partial(c, W.LATENCY_TEXT, W.LATENCY_LABELS) for n, c in classifiers.items()}
        latencies = M.block_latency(short, args.latency_calls, args.rounds, bar)
    fp32_long = statistics.median(long_times["fp32 (O2, first-token pruned)"])
    for name, values in long_times.items():
        rows[name]["long_input_speed_vs_fp32"] = fp32_long / statistics.median(values)
        rows[name]["one_text_p50_ms"] = latencies[name]["p50_ms"]
    flags = flags_summary()
    set_names = " | ".join(SINGLE_LABEL_SETS)
    lines = [
        f"### 8-bit variants against fp32: {len(texts)} AG News texts x {len(labels)} labels; CPU flags: {flags}; kernels: {R.kernels()}; {args.threads} threads",
        "",
        f"| variant | top-1 agreement | max \\|Δscore\\| | mean \\|Δscore\\| | batch invariance (max \\|Δscore\\|) | pairs/s | speed vs fp32 | near-512 speed vs fp32 | one text p50 ms | MB | {set_names} |",
        "|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(SINGLE_LABEL_SETS),
    ]
    for name, r in rows.items():
        accuracy = " | ".join(f"{r['accuracy'][s]:.3f}" for s in SINGLE_LABEL_SETS)
        long_speed = f"{r['long_input_speed_vs_fp32']:.2f}x" if "long_input_speed_vs_fp32" in r else "–"
        p50 = f"{r['one_text_p50_ms']:.1f}" if "one_text_p50_ms" in r else "–"
        lines.append(
            f"| {name} | {r['top1_agreement']:.3f} | {r['max_abs_score_diff']:.3f} | {r['mean_abs_score_diff']:.4f} | "
            f"{r['batch_invariance_max_abs_diff']:.2g} | {r['pairs_per_s']:.0f} | {r['speed_vs_fp32']:.2f}x | {long_speed} | {p50} | {r['model_mb']:.1f} | {accuracy} |"
        )
    lines += ["", f"Accuracy: {args.rows_per_set} rows per set ({max(args.rows_per_set // 3, 4)} for banking77, 77 labels); "
              f"speed: {len(speed_texts)} texts x {len(labels)} labels, median of {args.rounds} interleaved rounds; near-512: "
              f"{len(long_inputs)} texts near the maximum length x {len(long_labels)} labels, same rounds; one text: "
              f"{args.latency_calls} calls of one short text x 3 labels per variant, in blocks."]
    data = {"cpu_flags": flags, "kernels": R.kernels(), "threads": args.threads, "texts": len(texts), "labels": labels, "variants": rows}
    R.write_results(R.results_base(args.out, "int8", args.quick), data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
