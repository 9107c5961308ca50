"""Export variants of the shared model: size, load time, NLI accuracy and throughput.

    python benchmarks/export_variants.py [--pairs 2000] [--texts 120] [--quick]

Throughput is AG News x 4 labels through zsc.engine, the variants interleaved over 3 rounds
(median), so the first-token pruning and int8 gains are measured side by side.

Writes benchmarks/results/<date>-<host>-export.{json,md}.
"""

from __future__ import annotations

import json
import statistics
import time

import contenders as C
import measure as M
import results_io as R
import workloads as W
from tqdm.auto import tqdm

VARIANTS = {  # name -> export options
    "fp32": {"quantize": "none", "optimize": "none"},
    "fp32 O2-fused, all tokens": {"quantize": "none", "optimize": "O2", "first_token_only": False},
    "fp32 O2-fused": {"quantize": "none", "optimize": "O2"},
    "int8 (O2 + per-row int8), all tokens": {"quantize": "int8", "optimize": "O2", "first_token_only": False},
    "int8 (O2 + per-row int8)": {"quantize": "int8", "optimize": "O2"},
    "int8-dynamic (O2 + dynamic int8)": {"quantize": "int8-dynamic", "optimize": "O2"},
}
ROUNDS = 3
# --quick (the test smoke) exports these only: each export of the real model costs ~30 s on a fresh clone.
QUICK_VARIANTS = ("fp32", "int8 (O2 + per-row int8)", "int8-dynamic (O2 + dynamic int8)")


def cache_name(options: dict) -> str:
    pruning = "first" if options.get("first_token_only", True) else "all"
    return f"variant-{options['quantize']}-{options['optimize']}-{pruning}"


def throughput(classifiers: dict, texts: list[str], labels: list[str]) -> dict[str, float]:
    """Median pairs/s per variant, interleaved (A B C A B C ...) so machine noise hits all."""
    runs = {name: (lambda c=classifier: c(texts, labels)) for name, classifier in classifiers.items()}
    with tqdm(total=ROUNDS * len(runs), desc="throughput", unit="run") as bar:
        seconds = M.interleaved(runs, ROUNDS, bar)
    return {name: statistics.median(len(texts) * len(labels) / s for s in values) for name, values in seconds.items()}
SETS = ("mnli_dev_mismatched", "snli_test")


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--texts", type=int, default=120, help="AG News texts for the throughput column")
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.texts = 16, 4
    from zsc.engine import ZeroShotClassifier

    data = {name: [json.loads(l) for l in list(open(W.NLI_DATA / f"{name}.jsonl"))[: args.pairs]] for name in SETS}
    rows, classifiers = {}, {}
    variants = {k: v for k, v in VARIANTS.items() if k in QUICK_VARIANTS} if args.quick else VARIANTS
    for variant, options in tqdm(variants.items(), desc="export variants"):
        directory = C.cached_export(cache_name(options), **options)
        loads = []
        for _ in range(5):
            start = time.perf_counter()
            classifier = ZeroShotClassifier.from_pretrained(directory, threads=args.threads)
            loads.append(time.perf_counter() - start)
        entry = {
            "model_mb": (directory / "model.onnx").stat().st_size / 1e6,
            "load_s_median": statistics.median(loads),
        }
        names = classifier.model_dir.manifest.id2label
        for name, pairs in data.items():
            logits = classifier.logits(classifier.encoder.zipped_pairs([p["premise"] for p in pairs], [p["hypothesis"] for p in pairs]))
            entry[f"{name}_accuracy"] = sum(names[int(i)] == p["label"] for i, p in zip(logits.argmax(1), pairs)) / len(pairs)
        rows[variant] = entry
        classifiers[variant] = classifier
    texts, labels = W.ag_news(args.texts)
    for variant, pairs_per_s in throughput(classifiers, texts, labels).items():
        rows[variant]["ag_news_pairs_per_s"] = pairs_per_s
    lines = [
        f"### Export variants of {C.MINILM.name} ({args.pairs} pairs per NLI set, 3-way argmax; load = from_pretrained, "
        f"median of 5; throughput = {len(texts)} AG News texts x {len(labels)} labels, {args.threads} threads, median of {ROUNDS} interleaved rounds)",
        "", "| variant | model.onnx MB | load s | AG News pairs/s | " + " | ".join(f"{s} acc" for s in SETS) + " |",
        "|---|---|---|---|" + "---|" * len(SETS),
    ]
    for variant, e in rows.items():
        lines.append(f"| {variant} | {e['model_mb']:.1f} | {e['load_s_median']:.3f} | {e['ag_news_pairs_per_s']:.1f} | "
                     + " | ".join(f"{e[f'{s}_accuracy']:.4f}" for s in SETS) + " |")
    R.write_results(R.results_base(args.out, "export", args.quick), {"pairs": args.pairs, "variants": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
