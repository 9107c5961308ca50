"""Where int8's top-1 disagreement with fp32 comes from (make bench-int8).

    python benchmarks/int8_sensitivity.py            # 1,000 AG News texts x 4 labels
    python benchmarks/int8_sensitivity.py --quick    # tiny sizes for the smoke test

Each variant runs through zsc.engine on the same texts as the fused fp32 graph (the reference):
- weights rounded to int8 and back (per output channel; 8-bit and the AVX2 preset's 7-bit),
  with every activation still fp32: the error of the weights alone;
- dynamic int8 exports (weights and activations int8), as `zsc export` writes them.
Also reported: how many texts the fp32 model itself ranks with a top-2 entailment-logit gap under
a few small thresholds, the close calls that any perturbation can flip.
Writes benchmarks/results/<date>-<host>-int8.{json,md}.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from tqdm.auto import tqdm  # noqa: E402

import contenders as C  # noqa: E402
import results_io as R  # noqa: E402
import workloads as W  # noqa: E402

TEMPLATE = "This example is {}."
GAP_THRESHOLDS = (0.02, 0.05, 0.1, 0.2)


def round_weights(fp32_dir: Path, out: Path, bits: int) -> Path:
    """A copy of the fp32 model directory whose MatMul/Attention weights went through int8."""
    import onnx
    from onnx import numpy_helper

    from zsc.engine.model_dir import MANIFEST_NAME, sha256_file

    shutil.copytree(fp32_dir, out, dirs_exist_ok=True)
    model = onnx.load(str(fp32_dir / "model.onnx"))
    weight_names = {n.input[1] for n in model.graph.node if n.op_type in ("MatMul", "Attention")}
    limit = 2 ** (bits - 1) - 1
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name in weight_names:
            weights = numpy_helper.to_array(tensor).astype(np.float32)
            if weights.ndim != 2:
                continue
            scale = np.maximum(np.abs(weights).max(axis=0), 1e-12) / limit  # one scale per output channel
            rounded = (np.round(weights / scale) * scale).astype(np.float32)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(rounded, tensor.name))
    onnx.save(model, str(out / "model.onnx"))
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    manifest["files"]["model.onnx"] = sha256_file(out / "model.onnx")
    manifest["precision"] = f"fp32 (weights rounded to {bits}-bit)"
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2))
    return out


def entailment_logits(model_dir: Path, texts: list[str], labels: list[str], threads: int) -> np.ndarray:
    from zsc.engine import ZeroShotClassifier

    classifier = ZeroShotClassifier.from_pretrained(model_dir, provider="cpu", threads=threads)
    hypotheses = [TEMPLATE.format(label) for label in labels]
    logits = classifier.logits(classifier.encoder.pairs(texts, hypotheses, labels))
    return logits[:, classifier.model_dir.manifest.entailment_id].reshape(len(texts), len(labels))


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts", type=int, default=1000)
    args = parser.parse_args()
    if args.quick:
        args.texts = 8
    texts, labels = W.ag_news(args.texts)
    fp32_dir = C.zsc_fp32_dir()
    variants = {
        "weights int8 per channel (8-bit), fp32 activations": lambda: round_weights(fp32_dir, C.CACHE / "weights-8bit", 8),
        "weights int8 per channel (7-bit, avx2 preset), fp32 activations": lambda: round_weights(fp32_dir, C.CACHE / "weights-7bit", 7),
        "dynamic int8, avx2 preset (the embedded default)": lambda: C.DEFAULT_MODEL,
        "dynamic int8, 8-bit weights (avx512_vnni preset)": lambda: C.cached_export("int8-vnni-preset", quantize="int8", optimize="O2", preset="avx512_vnni"),
    }
    reference = entailment_logits(fp32_dir, texts, labels, args.threads)
    top1 = reference.argmax(1)
    ordered = np.sort(reference, axis=1)
    gaps = ordered[:, -1] - ordered[:, -2]
    rows = {}
    for name, make in tqdm(variants.items(), desc="int8 variants"):
        logits = entailment_logits(make(), texts, labels, args.threads)
        rows[name] = {
            "top1_agreement": float((logits.argmax(1) == top1).mean()),
            "mean_abs_logit_diff": float(np.abs(logits - reference).mean()),
            "max_abs_logit_diff": float(np.abs(logits - reference).max()),
        }
    close_calls = {str(t): float((gaps < t).mean()) for t in GAP_THRESHOLDS}
    lines = [
        f"### int8 sensitivity: {len(texts)} AG News texts x {len(labels)} labels, against fused fp32 (entailment logits)",
        "", "| variant | top-1 agreement | mean abs Δlogit | max abs Δlogit |", "|---|---|---|---|",
        *(f"| {n} | {r['top1_agreement']:.3f} | {r['mean_abs_logit_diff']:.4f} | {r['max_abs_logit_diff']:.3f} |" for n, r in rows.items()),
        "", "Share of texts whose fp32 top-2 entailment logits are closer than a gap: "
        + ", ".join(f"< {t}: {share:.1%}" for t, share in close_calls.items()),
    ]
    data = {"texts": len(texts), "labels": labels, "variants": rows, "close_calls": close_calls}
    R.write_results(R.results_base(args.out, "int8", args.quick), data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
