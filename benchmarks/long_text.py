"""Long texts: truncation (the pipeline) against windows aggregated by max or mean.

    python benchmarks/long_text.py [--rows 300] [--quick]

1. imdb sentiment (positive/negative): --rows reviews drawn with a fixed seed, all of them, and
   the long ones alone (over 400 words, where truncation loses text).
2. Built documents: --documents texts of ~650 words of film reviews with one on-topic sentence
   at the end (sports, finance, cooking, weather, in turn); 4 labels; is the topic found?
Accuracy and NLI pairs per text for truncate, max (window 32, 64, 128 tokens) and mean (64 and the
model's room), through the public API. Writes results/<date>-<host>-long.{json,md}.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))

import results_io as R  # noqa: E402
import workloads as W  # noqa: E402

SETTINGS = [("truncate", None), ("max", 32), ("max", 64), ("max", 128), ("mean", 64), ("mean", None)]
TOPICS = {
    "sports": "In the final minute the striker scored the winning goal and the football team lifted the trophy.",
    "finance": "The central bank raised interest rates and stock markets fell sharply across the world.",
    "cooking": "Simmer the onions in butter, add the garlic and tomatoes, and bake the dish for forty minutes.",
    "weather": "A heavy storm with strong winds and freezing rain is expected to hit the coast tonight.",
}


def imdb(rows: int) -> tuple[list[str], list[str]]:
    records = [json.loads(line) for line in open(W.ZSC_DATA / "imdb/test.jsonl", encoding="utf-8")]
    chosen = random.Random(0).sample(records, min(rows, len(records)))
    return [r["text"] for r in chosen], [r["label"] for r in chosen]


def documents(count: int) -> tuple[list[str], list[str]]:
    reviews = [json.loads(line)["text"] for line in open(W.ZSC_DATA / "imdb/test.jsonl", encoding="utf-8")]
    texts, gold, words, topics = [], [], [], list(TOPICS)
    for review in reviews:
        words += review.split()
        if len(words) >= 650:
            topic = topics[len(texts) % len(topics)]
            texts.append(" ".join(words[:650]) + " " + TOPICS[topic])
            gold.append(topic)
            words = []
            if len(texts) == count:
                break
    return texts, gold


def evaluate(clf, texts: list[str], gold: list[str], labels: list[str], long_text: str, window: int | None) -> dict:
    prepared = clf.prepare(texts, labels, long_text=long_text, window_tokens=window)
    out = clf.finish(prepared, clf.logits(prepared.pairs))
    return {"accuracy": float(np.mean([o[0]["label"] == g for o, g in zip(out, gold)])),
            "nli_pairs_per_text": len(prepared.pairs) / len(texts)}


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--documents", type=int, default=40)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.documents = 4, 2
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary

    clf = ZeroShotClassifier.default(threads=args.threads)
    texts, gold = imdb(args.rows)
    long_rows = [i for i, t in enumerate(texts) if len(t.split()) > 400]
    built, topics = documents(args.documents)
    workloads = {
        f"imdb, {len(texts)} reviews": (texts, gold, ["negative", "positive"]),
        f"imdb, the {len(long_rows)} over 400 words": ([texts[i] for i in long_rows], [gold[i] for i in long_rows], ["negative", "positive"]),
        f"built documents, {len(built)} (~650 words + 1 on-topic sentence)": (built, topics, list(TOPICS)),
    }
    results: dict = {"cpu_flags": flags_summary(), "workloads": {}}
    for name, (xs, ys, labels) in tqdm(workloads.items(), desc="workloads", unit="set"):
        if not xs:
            continue
        results["workloads"][name] = {f"{mode}" + (f" (window {window})" if window else " (room)" if mode == "mean" else ""):
                                      evaluate(clf, xs, ys, labels, mode, window) for mode, window in SETTINGS}
    lines = [f"### Long texts: truncate vs windows (embedded model, CPU flags: {results['cpu_flags']})", "",
             "| workload | setting | accuracy | NLI pairs per text |", "|---|---|---|---|"]
    for name, rows in results["workloads"].items():
        for setting, r in rows.items():
            lines.append(f"| {name} | {setting} | {r['accuracy']:.3f} | {r['nli_pairs_per_text']:.1f} |")
    R.write_results(R.results_base(args.out, "long", args.quick), results, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
