"""What each of zsc's modes gets right, per shared set, beside the published BTZSC figures (make bench-accuracy).

    python benchmarks/accuracy_modes.py [--rows 300] [--quick] [--no-tune]

The seven shared sets that are also in the BTZSC benchmark (agnews, banking77, emotiondair,
imdb, rottentomatoes, massive, financialphrasebank): --rows rows each (drawn with a fixed seed,
never the few-shot rows), the embedded default models, template "This example is {}.", labels
verbalised (underscores and slashes become spaces). Modes: exact NLI (`scoring="nli"`, the
pipeline), hybrid, embedding alone, the prefilter at the default call's K with the default
scoring (auto: the hybrid on the K), windows (imdb only: `long_text="mean"`; elsewhere the texts
fit one window), the default call itself (`clf(texts, labels)`: up to 10 labels the hybrid over
every label, its embedder weighted by the labels' spread; past that the prefilter and the hybrid),
the default call as it was before that rule (exact NLI up to 10 labels; computed from the rows
above), and `zsc tune` with k = 8 examples per label (int8;
`--no-tune` leaves it out, a quarter of an hour less). The NLI logits and cosines are computed once per set; each mode's scores come from the
engine's own `finish` over them. Accuracy and macro-F1, with a plot. The BTZSC figures are
accuracy on their own samples with their own hypothesis wordings, and their models are far
larger: for scale, not a like-for-like comparison.
Writes results/<date>-<host>-accuracy-modes.{json,md,png}.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import results_io as R
import workloads as W
from metrics import label_phrase, macro_f1
from tqdm import tqdm

from zsc.engine.defaults import AUTO_PREFILTER_MIN_LABELS, AUTO_PREFILTER_TOP_K

TEMPLATE = "This example is {}."
PREFILTER_K = AUTO_PREFILTER_TOP_K
BEFORE = "default call before (exact NLI up to 10 labels)"
K_SHOT = 8
# Our set name -> BTZSC's name and published accuracy (the BTZSC benchmark, arXiv 2603.11991: bart-large-mnli,
# deberta-v3-large NLI, all-MiniLM-L6-v2 embeddings), as quoted in issue #22.
BTZSC = {
    "ag_news": ("agnews", 0.727, 0.832, 0.500),
    "banking77": ("banking77", 0.287, 0.244, 0.441),
    "dair_emotion": ("emotiondair", 0.505, 0.439, 0.108),
    "imdb": ("imdb", 0.929, 0.927, 0.493),
    "rottentomatoes": ("rottentomatoes", 0.833, 0.838, 0.499),
    "massive": ("massive", 0.430, 0.423, 0.338),
    "financialphrasebank": ("financialphrasebank", 0.419, 0.819, 0.423),
}
BTZSC_MODELS = ("bart-large-mnli (BTZSC)", "deberta-v3-large NLI (BTZSC)", "all-MiniLM-L6-v2 embeddings (BTZSC)")
MINILM = W.SHARED / "models" / "minilm-l6-nli"


def split(name: str, rows: int) -> tuple[list[dict], list[dict], list[str]]:
    """Up to K_SHOT few-shot rows per label, and ``rows`` other rows; labels as phrases."""
    folder = W.ZSC_DATA / name
    labels = json.loads((folder / "labels.json").read_text())
    records = [json.loads(line) for line in open(folder / "test.jsonl", encoding="utf-8")]
    rng = random.Random(0)
    shots = []
    for label in labels:
        of_label = [r for r in records if r["label"] == label]
        shots += rng.sample(of_label, min(K_SHOT, max(1, len(of_label) - 1)))  # at least one shot; a row left for evaluation when there is one
    taken = {id(r) for r in shots}
    rest = [r for r in records if id(r) not in taken]
    held_out = rng.sample(rest, min(rows, len(rest)))
    phrase = {label: label_phrase(label) for label in labels}
    return ([{"text": r["text"], "label": phrase[r["label"]]} for r in shots],
            [{"text": r["text"], "label": phrase[r["label"]]} for r in held_out], list(phrase.values()))


def scored(predicted: list[str], gold: list[str], labels: list[str]) -> dict[str, float]:
    return {"accuracy": float(np.mean([p == g for p, g in zip(predicted, gold)])), "macro_f1": macro_f1(gold, predicted, labels)}


def top_labels(results: list) -> list[str]:
    return [row[0]["label"] for row in results]


def modes(clf, texts: list[str], gold: list[str], labels: list[str], windows: bool) -> dict[str, dict[str, float]]:
    """Every mode's accuracy from one NLI pass over all (text, label) pairs and one embedding pass."""
    prepared = clf.prepare(texts, labels, scoring="hybrid")  # all pairs, and the similarities
    logits = clf.logits(prepared.pairs)
    every = [len(texts) * [mode] for mode in ("nli", "embedding")]
    out = {"nli (the pipeline)": scored(top_labels(clf.finish(replace(prepared, scorings=every[0]), logits)), gold, labels),
           "hybrid": scored(top_labels(clf.finish(prepared, logits)), gold, labels),
           "embedding": scored(top_labels(clf.finish(replace(prepared, scorings=every[1]), logits)), gold, labels)}
    if len(labels) > PREFILTER_K:
        selection = np.argsort(-np.stack(prepared.similarity), axis=1, kind="stable")[:, :PREFILTER_K]
        per_text = logits.reshape(len(texts), len(labels), -1)
        narrowed = np.take_along_axis(per_text, selection[..., None], axis=1).reshape(len(texts) * PREFILTER_K, -1)
        out[f"prefilter K={PREFILTER_K} (auto: hybrid on the K)"] = scored(
            top_labels(clf.finish(replace(prepared, chosen=list(selection)), narrowed)), gold, labels)
    out["default call (auto)"] = scored(top_labels(clf(texts, labels)), gold, labels)  # the call itself, no options
    # before the few-label rule (2026-12-05): exact NLI up to 10 labels, the prefilter past that
    many = len(labels) >= AUTO_PREFILTER_MIN_LABELS
    out[BEFORE] = out[f"prefilter K={PREFILTER_K} (auto: hybrid on the K)"] if many else out["nli (the pipeline)"]
    if windows:
        out["windows (long_text mean)"] = scored(top_labels(clf(texts, labels, long_text="mean")), gold, labels)
    return out


def tuned(shots: list[dict], held_out: list[dict], labels: list[str], threads: int, quick: bool) -> tuple[dict[str, float], float]:
    from zsc.engine import ZeroShotClassifier
    from zsc.export.tune import tune_model

    with tempfile.TemporaryDirectory() as folder:
        examples = Path(folder) / "examples.jsonl"
        examples.write_text("".join(json.dumps(r) + "\n" for r in shots))
        started = time.perf_counter()
        tune_model(str(MINILM), Path(folder) / "tuned", examples, labels=labels, template=TEMPLATE, quantize="int8",
                   epochs=1 if quick else 3, progress=False)
        seconds = time.perf_counter() - started
        model = ZeroShotClassifier.from_pretrained(Path(folder) / "tuned", threads=threads)
        predicted = top_labels(model([r["text"] for r in held_out], labels))
    return scored(predicted, [r["label"] for r in held_out], labels), seconds


def report(results: dict) -> str:
    names = list(results["sets"])
    mode_names = list(dict.fromkeys(m for r in results["sets"].values() for m in r["modes"]))
    head = ["| mode | " + " | ".join(names) + " | mean |", "|---|" + "---|" * (len(names) + 1)]
    lines = [f"### Accuracy by mode, {results['rows']} rows per set (macro-F1 in the JSON; CPU flags: {results['cpu_flags']})", "", *head]
    for mode in mode_names:
        values = [results["sets"][n]["modes"].get(mode, {}).get("accuracy") for n in names]
        present = [v for v in values if v is not None]
        mean = f"{np.mean(present):.3f}" if len(present) == len(values) else "–"
        lines.append(f"| {mode} | " + " | ".join(f"{v:.3f}" if v is not None else "–" for v in values) + f" | {mean} |")
    for i, model in enumerate(BTZSC_MODELS):
        values = [BTZSC[n][i + 1] for n in names]
        lines.append(f"| {model} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {np.mean(values):.3f} |")
    lines += ["", "Macro-F1:", "", *head]
    for mode in mode_names:
        values = [results["sets"][n]["modes"].get(mode, {}).get("macro_f1") for n in names]
        lines.append(f"| {mode} | " + " | ".join(f"{v:.3f}" if v is not None else "–" for v in values) + " | |")
    seconds = ", ".join(f"{n} {results['sets'][n]['tune_seconds']:.0f} s" for n in names if results["sets"][n]["tune_seconds"])
    lines += ["", f"`zsc tune` (k = {K_SHOT}, int8, tune + export on this machine): {seconds or 'not run (--no-tune)'}.",
              "BTZSC rows: accuracy published for the same datasets, on their own samples and hypothesis wordings, "
              "with NLI models of hundreds of millions of parameters (bart-large-mnli 407M) against MiniLM's 22.7M: for scale only."]
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["sets"])
    series = {"zsc exact NLI": [results["sets"][n]["modes"]["nli (the pipeline)"]["accuracy"] for n in names],
              "zsc hybrid": [results["sets"][n]["modes"]["hybrid"]["accuracy"] for n in names],
              "zsc default call, before": [results["sets"][n]["modes"][BEFORE]["accuracy"] for n in names],
              "zsc default call": [results["sets"][n]["modes"]["default call (auto)"]["accuracy"] for n in names],
              BTZSC_MODELS[0]: [BTZSC[n][1] for n in names], BTZSC_MODELS[1]: [BTZSC[n][2] for n in names]}
    figure, axis = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        axis.bar([p + (i - len(series) / 2 + 0.5) * width for p in range(len(names))], values, width, label=label,
                 hatch="//" if "BTZSC" in label else None, alpha=0.6 if "BTZSC" in label else 1.0)
    axis.set_xticks(range(len(names)), names, rotation=15)
    axis.set_ylabel("accuracy")
    axis.set_ylim(0, 1)
    axis.legend(fontsize=8, ncol=2)
    axis.set_title("zsc's modes (MiniLM, 22.7M) beside published BTZSC figures (other samples and wordings; larger models)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--no-tune", action="store_true", help="leave out zsc tune (a quarter of an hour on 2 cores)")
    args = parser.parse_args()
    sets = list(BTZSC)
    if args.quick:
        args.rows, sets = 12, ["rottentomatoes", "financialphrasebank"]
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary

    clf = ZeroShotClassifier.default(threads=args.threads)
    base = R.results_base(args.out, "accuracy-modes", args.quick)
    # Half an hour of work: each finished set is kept beside the results, and a rerun with the
    # same rows picks up after it.
    partial = Path(f"{base}.partial.json")
    results: dict = {"cpu_flags": flags_summary(), "rows": args.rows, "template": TEMPLATE, "btzsc": BTZSC, "sets": {}}
    if partial.exists() and json.loads(partial.read_text()).get("rows") == args.rows and not args.no_tune:
        results["sets"] = json.loads(partial.read_text())["sets"]
    for name in tqdm([n for n in sets if n not in results["sets"]], desc="sets", unit="set"):
        shots, held_out, labels = split(name, args.rows)
        texts, gold = [r["text"] for r in held_out], [r["label"] for r in held_out]
        found = modes(clf, texts, gold, labels, windows=name == "imdb")
        seconds = 0.0
        if not args.no_tune:
            found[f"zsc tune, k = {K_SHOT}"], seconds = tuned(shots, held_out, labels, args.threads, args.quick)
        results["sets"][name] = {"labels": len(labels), "rows": len(held_out), "modes": found, "tune_seconds": seconds}
        partial.write_text(json.dumps(results))
    results["sets"] = {name: results["sets"][name] for name in sets}
    R.write_results(base, results, report(results))
    plot(results, base.with_suffix(".png"))
    partial.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
