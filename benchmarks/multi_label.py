"""Multi-label hybrid with a per-text relative baseline: accept it, or keep refusing it? (make bench-multilabel)

    python benchmarks/multi_label.py [--rows 300] [--quick]

Exact NLI's multi-label score is sigmoid(entailment - contradiction) per label, threshold 0.5.
A global cosine threshold did not transfer between label sets (bench-hybrid part 3), so this
study tries a baseline taken from the call itself: per text and label,

    z = w * (entailment - contradiction) + (cos(text, label) - mean cos(text, other labels)) / T

and the label is on when sigmoid(z) >= 0.5. w and T are chosen on the first half of
goemotions_ekman (7 emotions, several per text) and reported on the second half, then applied
unchanged to a second, built set: AG News texts that are one article or two joined articles of
different topics (labels world / sports / business / sci tech), gold = the topics present.
Micro-F1 for exact NLI, the embedding alone (relative baseline, T only) and the hybrid.
The rule is accepted only if it beats exact NLI's micro-F1 by >= 3 points on goemotions'
held-out half and does not lose to it on the built set. Writes results/<date>-<host>-multilabel.{json,md}.
"""

from __future__ import annotations

import json
import random

import numpy as np
import results_io as R
import workloads as W
from metrics import label_phrase, micro_f1

from zsc.engine.scoring import relative_similarity

TEMPERATURES = (0.01, 0.02, 0.05, 0.1)
NLI_WEIGHTS = (0.25, 0.5, 1.0)
REQUIRED_GAIN = 0.03


def goemotions(rows: int) -> tuple[list[str], list[set[str]], list[str]]:
    folder = W.ZSC_DATA / "goemotions_ekman"
    labels = json.loads((folder / "labels.json").read_text())
    records = random.Random(0).sample([json.loads(line) for line in open(folder / "test.jsonl", encoding="utf-8")], rows)
    return [r["text"] for r in records], [set(r["labels"]) for r in records], labels


def multi_topic(rows: int) -> tuple[list[str], list[set[str]], list[str]]:
    """One AG News article, or two of different topics joined, in turn (fixed seed)."""
    records = [json.loads(line) for line in open(W.ZSC_DATA / "ag_news/test.jsonl", encoding="utf-8")]
    rng = random.Random(1)
    texts, gold = [], []
    while len(texts) < rows:
        first, second = rng.sample(records, 2)
        if len(texts) % 2 == 0 or first["label"] == second["label"]:
            texts.append(first["text"])
            gold.append({first["label"]})
        else:
            texts.append(first["text"] + " " + second["text"])
            gold.append({first["label"], second["label"]})
    return texts, gold, W.AG_NEWS_LABELS


def signals(clf, texts: list[str], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per (text, label): NLI's entailment-minus-contradiction logit, and the relative cosine
    (the label's cosine minus the mean cosine of the call's other labels)."""
    phrases = [label_phrase(label) for label in labels]
    prepared = clf.prepare(texts, phrases, multi_label=True, scoring="nli")
    logits = clf.logits(prepared.pairs).reshape(len(texts), len(labels), -1)
    cos = clf.embedder.embed(texts) @ clf.embedder.embed(phrases).T
    return clf.head.log_odds(logits), relative_similarity(cos)


def predicted(scores: np.ndarray, labels: list[str]) -> list[set[str]]:
    return [{label for label, on in zip(labels, row) if on} for row in scores >= 0]  # sigmoid(z) >= 0.5  <=>  z >= 0


def evaluate(log_odds: np.ndarray, relative: np.ndarray, gold: list[set[str]], labels: list[str], w: float, t: float) -> dict[str, float]:
    return {"nli": micro_f1(gold, predicted(log_odds, labels)),
            "embedding (relative)": micro_f1(gold, predicted(relative / t, labels)),
            "hybrid (relative)": micro_f1(gold, predicted(w * log_odds + relative / t, labels))}


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=300, help="rows per set (goemotions: half to choose w and T, half held out)")
    args = parser.parse_args()
    if args.quick:
        args.rows = 12
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary

    clf = ZeroShotClassifier.default(threads=args.threads)
    texts, gold, labels = goemotions(args.rows)
    log_odds, relative = signals(clf, texts, labels)
    half = len(texts) // 2
    grid = [(w, t) for w in NLI_WEIGHTS for t in TEMPERATURES]
    w, t = max(grid, key=lambda p: evaluate(log_odds[:half], relative[:half], gold[:half], labels, *p)["hybrid (relative)"])
    held_out = evaluate(log_odds[half:], relative[half:], gold[half:], labels, w, t)
    topic_texts, topic_gold, topic_labels = multi_topic(args.rows)
    built = evaluate(*signals(clf, topic_texts, topic_labels), topic_gold, topic_labels, w, t)
    gain = held_out["hybrid (relative)"] - held_out["nli"]
    accepted = gain >= REQUIRED_GAIN and built["hybrid (relative)"] >= built["nli"]
    result = {"cpu_flags": flags_summary(), "chosen": {"nli_weight": w, "temperature": t},
              "goemotions_held_out": held_out, "multi_topic_built": built, "gain_on_goemotions": gain, "accepted": accepted}
    lines = [f"### Multi-label hybrid with a per-text relative baseline (embedded models, CPU flags: {result['cpu_flags']})", "",
             f"w = {w}, T = {t}, chosen on {half} goemotions_ekman rows; micro-F1 at 0.5.", "",
             f"| scoring | goemotions_ekman, {len(texts) - half} held-out rows | AG News one or two topics, {len(topic_texts)} built rows (same w, T) |",
             "|---|---|---|"]
    lines += [f"| {name} | {held_out[name]:.3f} | {built[name]:.3f} |" for name in held_out]
    verdict = "accepted" if accepted else "refused"
    lines += ["", f"Gain over exact NLI on goemotions: {gain:+.3f} (needs +{REQUIRED_GAIN:.2f}); on the built set: "
                  f"{built['hybrid (relative)'] - built['nli']:+.3f}. Verdict: **{verdict}**."]
    R.write_results(R.results_base(args.out, "multilabel", args.quick), result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
