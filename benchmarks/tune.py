"""Few-shot tuning (`zsc tune`) against the zero-shot default, on held-out rows (make bench-tune).

    python benchmarks/tune.py [--k 8] [--rows 300] [--quick]

For each of ag_news, dair_emotion, sst2 and trec: k examples per label are drawn from the set
with a fixed seed (the "few shots"), the shared MiniLM NLI model (the embedded default's source)
is tuned on them with `zsc tune`'s defaults and exported (per-row int8 + fp16), and both the
embedded zero-shot default and the tuned int8 model classify --rows other rows of the set
(never the tuning rows), with the same labels and template. Reports accuracy, macro-F1, the
gain, and the seconds each set's tuning took (training and export) on this machine, with a plot.
Writes results/<date>-<host>-tune.{json,md,png}.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import results_io as R
import workloads as W
from metrics import label_phrase, macro_f1

from zsc.export.tune import DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE

SETS = ("ag_news", "dair_emotion", "sst2", "trec")
CHOICE_SETS = ("rottentomatoes", "financialphrasebank")  # where zsc tune's defaults were chosen (--sets)
TEMPLATE = "This example is {}."
MINILM = W.SHARED / "models" / "minilm-l6-nli"


def split(name: str, k: int, rows: int, seed: int = 0) -> tuple[list[dict], list[dict], list[str]]:
    """k tuning rows per label and ``rows`` held-out rows (disjoint), labels as phrases."""
    folder = W.ZSC_DATA / name
    labels = json.loads((folder / "labels.json").read_text())
    records = [json.loads(line) for line in open(folder / "test.jsonl", encoding="utf-8")]
    rng = random.Random(seed)
    shots = [r for label in labels for r in rng.sample([r for r in records if r["label"] == label], k)]
    chosen = {id(r) for r in shots}
    held_out = rng.sample([r for r in records if id(r) not in chosen], rows)
    phrase = {label: label_phrase(label) for label in labels}
    as_phrases = [{"text": r["text"], "label": phrase[r["label"]]} for r in shots + held_out]
    return as_phrases[: len(shots)], as_phrases[len(shots):], list(phrase.values())


def evaluate(classifier, rows: list[dict], labels: list[str]) -> dict[str, float]:
    predicted = [result[0]["label"] for result in classifier([r["text"] for r in rows], labels, hypothesis_template=TEMPLATE)]
    gold = [r["label"] for r in rows]
    return {"accuracy": sum(p == g for p, g in zip(predicted, gold)) / len(rows), "macro_f1": macro_f1(gold, predicted, labels)}


def run_set(name: str, args, default) -> dict:
    from zsc.engine import ZeroShotClassifier
    from zsc.export.tune import tune_model

    shots, held_out, labels = split(name, args.k, args.rows)
    zero_shot = evaluate(default, held_out, labels)
    with tempfile.TemporaryDirectory() as folder:
        examples = Path(folder) / "examples.jsonl"
        examples.write_text("".join(json.dumps(r) + "\n" for r in shots))
        started = time.perf_counter()
        manifest = tune_model(str(MINILM), Path(folder) / "tuned", examples, template=TEMPLATE, epochs=args.epochs, seed=0,
                              learning_rate=args.lr, quantize=args.quantize)
        seconds = time.perf_counter() - started
        tuned = evaluate(ZeroShotClassifier.from_pretrained(Path(folder) / "tuned", threads=args.threads), held_out, labels)
    return {"labels": len(labels), "k": args.k, "held_out_rows": len(held_out), "pairs": manifest.tuning["pairs"],
            "tune_seconds": seconds, "zero_shot": zero_shot, "tuned": tuned,
            "gain": tuned["accuracy"] - zero_shot["accuracy"]}


def report(results: dict, args) -> str:
    rows = ["| set | labels | k | tuning pairs | zero-shot acc | tuned acc | gain | zero-shot macro-F1 | tuned macro-F1 | tune + export s |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["sets"].items():
        rows.append(f"| {name} | {r['labels']} | {r['k']} | {r['pairs']} | {r['zero_shot']['accuracy']:.3f} | {r['tuned']['accuracy']:.3f} | "
                    f"{r['gain']:+.3f} | {r['zero_shot']['macro_f1']:.3f} | {r['tuned']['macro_f1']:.3f} | {r['tune_seconds']:.0f} |")
    mean = results["mean"]
    rows.append(f"| **mean** | | | | {mean['zero_shot']:.3f} | {mean['tuned']:.3f} | **{mean['gain']:+.3f}** | | | |")
    head = (f"### `zsc tune` (k = {args.k} per label, {args.epochs} epochs, lr {args.lr:g}, seed 0) against the zero-shot default, "
            f"{args.rows} held-out rows per set, {args.threads} threads (CPU flags: {results['cpu_flags']})")
    return "\n".join([head, "", *rows]) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["sets"])
    zero = [results["sets"][n]["zero_shot"]["accuracy"] for n in names]
    tuned = [results["sets"][n]["tuned"]["accuracy"] for n in names]
    figure, axis = plt.subplots(figsize=(7, 3.5))
    positions = range(len(names))
    axis.bar([p - 0.2 for p in positions], zero, 0.4, label="zero-shot default (int8)")
    axis.bar([p + 0.2 for p in positions], tuned, 0.4, label="zsc tune, k = 8 (int8)")
    axis.set_xticks(list(positions), names)
    axis.set_ylabel("accuracy, held-out rows")
    axis.set_ylim(0, 1)
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--k", type=int, default=8, help="examples per label")
    parser.add_argument("--rows", type=int, default=300, help="held-out rows per set")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--lr", type=float, default=DEFAULT_LEARNING_RATE)
    parser.add_argument("--quantize", default="int8,fp16-w8")
    parser.add_argument("--sets", default=",".join(SETS),
                        help=f"shared sets to run; the defaults were chosen on {', '.join(CHOICE_SETS)}, not on these")
    args = parser.parse_args()
    sets = tuple(args.sets.split(","))
    if args.quick:
        args.k, args.rows, args.epochs, args.quantize, sets = 2, 20, 1, "int8", ("trec",)
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary

    default = ZeroShotClassifier.default(threads=args.threads)
    results_kind = "tune" if sets == SETS or args.quick else "tune-" + "-".join(sets) + f"-lr{args.lr:.0e}-e{args.epochs}"
    results: dict = {"cpu_flags": flags_summary(), "template": TEMPLATE, "sets": {}}
    for name in sets:
        print(f"tuning on {name}", file=sys.stderr)
        results["sets"][name] = run_set(name, args, default)
    values = list(results["sets"].values())
    results["mean"] = {key: sum(v[key]["accuracy"] if key != "gain" else v[key] for v in values) / len(values)
                       for key in ("zero_shot", "tuned", "gain")}
    base = R.results_base(args.out, results_kind, args.quick)
    R.write_results(base, results, report(results, args))
    plot(results, base.with_suffix(".png"))


if __name__ == "__main__":
    main()
