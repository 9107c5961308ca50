"""Long texts: truncation (the pipeline) against windows, and how to aggregate the windows.

    python benchmarks/long_text.py [--rows 300] [--documents 40] [--quick]

1. imdb sentiment (positive/negative): --rows reviews drawn with a fixed seed, all of them, and
   the long ones alone (over 400 words, where truncation loses text).
2. Needle documents, tuning kind: ~650 words of film reviews with one on-topic sentence at the
   end (sports, finance, cooking, weather, in turn); 4 labels; is the topic found?
3. Needle documents, held-out kind (never used to choose): ~650 words of AG News business
   articles with one sentence on music, medicine, travel, space or law at the start, middle or end;
   5 labels; found per topic (5 documents each).
Every window setting's logits are computed once through the public API; each aggregation of the
per-label window logits is then scored from them: "max" (the window with the highest entailment
logit), "mean" (mean logits), "vote-max" and "vote-mean" (each window's own softmax over the
labels, then per label its best / mean share), and "max-mean" (best window relative to the
label's mean over the document). Accuracy and NLI pairs per text. Writes results/<date>-<host>-long.{json,md}.
"""

from __future__ import annotations

import json
import random

import numpy as np
import results_io as R  # noqa: E402
import workloads as W  # noqa: E402
from tqdm import tqdm

WINDOWS = [None, 32, 64, 128]  # None: the model's room beside the hypothesis
AGGREGATIONS = ("max", "mean", "vote-max", "vote-mean", "max-mean")
HELD_OUT_TOPICS = {
    "music": "The orchestra played the symphony while the singer performed her new album on stage.",
    "medicine": "Doctors treated the patients with a new vaccine and the hospital reported fewer infections.",
    "travel": "The tourists boarded a flight to Rome and spent their holiday visiting museums and beaches.",
    "space": "The rocket launched the astronauts into orbit and the probe landed on the surface of Mars.",
    "law": "The judge ruled that the defendant was guilty and the court sentenced him to prison.",
}
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


def held_out_documents(per_topic: int) -> tuple[list[str], list[str]]:
    """Business news (AG News "Business") of ~650 words with one sentence on another topic at the
    start, the middle or the end, in turn: unlike the film-review documents the settings are chosen on."""
    articles = [json.loads(line)["text"] for line in open(W.ZSC_DATA / "ag_news/test.jsonl", encoding="utf-8")
                if json.loads(line)["label"] == "Business"]
    texts, gold, words, index = [], [], [], 0
    for topic, needle in HELD_OUT_TOPICS.items():
        for i in range(per_topic):
            while len(words) < 650:
                words += articles[index % len(articles)].split()
                index += 1
            body, words = words[:650], words[650:]
            where = [len(body), len(body) // 2, 0][i % 3]
            texts.append(" ".join(body[:where] + [needle] + body[where:]))
            gold.append(topic)
    return texts, gold


def aggregate(block: np.ndarray, how: str, entailment: int) -> np.ndarray:
    """Per-label scores from one text's window logits (windows, labels, classes)."""
    entail = block[..., entailment].astype(np.float64)
    if how == "max":
        return entail.max(axis=0)
    if how == "mean":
        return entail.mean(axis=0)
    shares = np.exp(entail - entail.max(axis=1, keepdims=True))
    shares /= shares.sum(axis=1, keepdims=True)
    if how == "vote-max":
        return shares.max(axis=0)
    if how == "vote-mean":
        return shares.mean(axis=0)
    return entail.max(axis=0) - entail.mean(axis=0)  # max-mean


def evaluate(clf, texts: list[str], gold: list[str], labels: list[str], window: int | None) -> dict:
    """Accuracy of every aggregation (or of truncation, window "truncate") from one computation of the logits."""
    if window == "truncate":
        prepared = clf.prepare(texts, labels, scoring="nli")
        out = clf.finish(prepared, clf.logits(prepared.pairs))
        return {"truncate": {"accuracy": float(np.mean([o[0]["label"] == g for o, g in zip(out, gold)])),
                             "nli_pairs_per_text": len(prepared.pairs) / len(texts), "found": [o[0]["label"] == g for o, g in zip(out, gold)]}}
    prepared = clf.prepare(texts, labels, scoring="nli", long_text="max", window_tokens=window)
    logits = clf.logits(prepared.pairs)
    results, start = {}, 0
    predictions: dict[str, list[str]] = {how: [] for how in AGGREGATIONS}
    for count in prepared.windows:
        block = logits[start : start + count * len(labels)].reshape(count, len(labels), -1)
        start += count * len(labels)
        for how in AGGREGATIONS:
            predictions[how].append(labels[int(np.argmax(aggregate(block, how, clf.entailment_id)))])
    for how, predicted in predictions.items():
        found = [p == g for p, g in zip(predicted, gold)]
        results[f"{how} (window {window or 'room'})"] = {"accuracy": float(np.mean(found)), "nli_pairs_per_text": len(prepared.pairs) / len(texts),
                                                         "found": found}
    return results


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
    held, held_topics = held_out_documents(max(1, args.documents // 8))
    workloads = {
        f"imdb, {len(texts)} reviews": (texts, gold, ["negative", "positive"]),
        f"imdb, the {len(long_rows)} over 400 words": ([texts[i] for i in long_rows], [gold[i] for i in long_rows], ["negative", "positive"]),
        f"needle in film reviews (tuning kind), {len(built)}": (built, topics, list(TOPICS)),
        f"needle in business news (held out), {len(held)}": (held, held_topics, list(HELD_OUT_TOPICS)),
    }
    results: dict = {"cpu_flags": flags_summary(), "workloads": {}}
    for name, (xs, ys, labels) in tqdm(workloads.items(), desc="workloads", unit="set"):
        if not xs:
            continue
        rows: dict = {}
        for window in ["truncate", *WINDOWS]:
            rows |= evaluate(clf, xs, ys, labels, window)
        if "held out" in name:  # found per topic, out of the documents of that topic
            for row in rows.values():
                row["found_per_topic"] = {t: sum(f for f, y in zip(row["found"], ys) if y == t) for t in HELD_OUT_TOPICS}
        results["workloads"][name] = rows
    lines = [f"### Long texts: truncate vs windows and their aggregation (embedded model, CPU flags: {results['cpu_flags']})", "",
             "| workload | setting | accuracy | NLI pairs per text | found per topic (held out) |", "|---|---|---|---|---|"]
    for name, rows in results["workloads"].items():
        for setting, r in rows.items():
            per_topic = ", ".join(f"{t} {n}" for t, n in r.get("found_per_topic", {}).items())
            lines.append(f"| {name} | {setting} | {r['accuracy']:.3f} | {r['nli_pairs_per_text']:.1f} | {per_topic} |")
    R.write_results(R.results_base(args.out, "long", args.quick), results, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
