"""Beyond one NLI pass per label: hybrid scoring and the embedding prefilter, against gold labels.

    python benchmarks/hybrid.py [--rows 300] [--quick]

Part 1 (hybrid). On each shared single-label set (ag_news, dair_emotion, sst2, trec, banking77;
--rows rows drawn with a fixed seed), the embedded NLI model's entailment logits and the
embedded embedder's text-label cosines are computed once. The hybrid rule
p ∝ p_nli^w · softmax(cos / T) is tuned on the first half of each set's rows (grid over T and w,
best mean accuracy) and reported on the second half, with exact NLI and the embedder alone.

Part 3 (multi-label with a global cosine offset, the study that did not transfer; benchmarks/multi_label.py measures the per-text relative baseline zsc ships). goemotions_ekman (7
emotions, several per text): per label, NLI's entailment-vs-contradiction log-odds plus the
embedding's (cos - c) / T, threshold 0.5, micro-F1; c, T and w tuned on the first half of the
rows, reported on the second.

Part 2 (many labels). banking77 (77 labels), and the same texts against 1,000 labels (the 77
plus 923 distractor topics): exact NLI, the hybrid over all labels, embedding only, and the
prefilter at K = 5, 10, 20, 50 with NLI or the hybrid on the K; accuracy, recall@K of the gold
label, NLI pairs and seconds per text, through the public API (prefilter_top_k=K, scoring=...). Writes results/<date>-<host>-hybrid.{json,md}.
"""

from __future__ import annotations

import itertools
import json
import random
import time

import numpy as np
import results_io as R
import workloads as W
from metrics import label_phrase, micro_f1_matrix
from tqdm import tqdm

from zsc.engine.scoring import hybrid_scores

SETS = ("ag_news", "dair_emotion", "sst2", "trec", "banking77")
TEMPERATURES = (0.02, 0.03, 0.05, 0.1)
NLI_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
TOP_KS = (5, 10, 20, 50)


def sample(name: str, rows: int) -> tuple[list[str], list[int], list[str]]:
    """Texts, gold label indices and label phrases of ``rows`` rows drawn with a fixed seed."""
    folder = W.ZSC_DATA / name
    labels = json.loads((folder / "labels.json").read_text())
    records = [json.loads(line) for line in open(folder / "test.jsonl", encoding="utf-8")]
    chosen = random.Random(0).sample(records, min(rows, len(records)))
    phrases = [label_phrase(label).strip("?").strip().lower() for label in labels]
    return [r["text"] for r in chosen], [labels.index(r["label"]) for r in chosen], phrases


def distractors(count: int) -> list[str]:
    """Topic phrases unlike banking intents, two words each, fixed order."""
    words = W.many_labels(50)
    pairs = [f"{a} {b}" for a, b in itertools.permutations(words, 2)]
    return random.Random(1).sample(pairs, count)


def hybrid_accuracy(logits: np.ndarray, head, cos: np.ndarray, gold: np.ndarray, t: float, w: float) -> float:
    """Top-1 accuracy of the engine's single-label hybrid at temperature ``t`` and NLI weight ``w``."""
    return float((hybrid_scores(logits, head, cos, t, w).argmax(axis=1) == gold).mean())


def part_one(clf, rows: int) -> dict:
    from zsc.engine.defaults import EMBEDDING_TEMPERATURE, HYBRID_NLI_WEIGHT

    data = {}
    for name in tqdm(SETS, desc="sets", unit="set"):
        texts, gold, phrases = sample(name, rows)
        prepared = clf.prepare(texts, phrases, scoring="nli")  # every pair: the study combines the scores itself
        logits = clf.logits(prepared.pairs).reshape(len(texts), len(phrases), -1)
        cos = clf.embedder.embed(texts) @ clf.embedder.embed(phrases).T
        data[name] = (logits, cos, np.asarray(gold))
    half = {n: len(v[2]) // 2 for n, v in data.items()}
    tune = {(t, w): float(np.mean([hybrid_accuracy(x[: half[n]], clf.head, c[: half[n]], g[: half[n]], t, w)
                                   for n, (x, c, g) in data.items()]))
            for t in TEMPERATURES for w in NLI_WEIGHTS}
    best_t, best_w = max(tune, key=lambda k: tune[k])
    report = {}
    for name, (logits, cos, gold) in data.items():
        h = half[name]
        held = slice(h, None)
        report[name] = {
            "rows_held_out": len(gold) - h,
            "nli": float((clf.head.entailment(logits[held]).argmax(1) == gold[held]).mean()),
            "embedding": float((cos[held].argmax(1) == gold[held]).mean()),
            "hybrid (tuned)": hybrid_accuracy(logits[held], clf.head, cos[held], gold[held], best_t, best_w),
            "hybrid (engine defaults)": hybrid_accuracy(logits[held], clf.head, cos[held], gold[held], EMBEDDING_TEMPERATURE,
                                                        HYBRID_NLI_WEIGHT),
        }
    means = {k: float(np.mean([r[k] for r in report.values()])) for k in ("nli", "embedding", "hybrid (tuned)", "hybrid (engine defaults)")}
    return {"tuned": {"temperature": best_t, "nli_weight": best_w}, "grid_tuning_mean_accuracy": {f"T={t} w={w}": a for (t, w), a in tune.items()},
            "engine_defaults": {"temperature": EMBEDDING_TEMPERATURE, "nli_weight": HYBRID_NLI_WEIGHT}, "held_out": report, "held_out_mean": means}


OFFSETS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
MULTI_TEMPERATURES = (0.01, 0.02, 0.05, 0.1)
MULTI_WEIGHTS = (0.25, 0.5, 1.0, 2.0)


def part_three(clf, rows: int) -> dict:
    """Multi-label on goemotions_ekman: per-label log-odds of NLI and of the embedding, added;
    threshold 0.5; micro-F1. Tuned on the first half of the rows, reported on the second."""
    folder = W.ZSC_DATA / "goemotions_ekman"
    labels = json.loads((folder / "labels.json").read_text())
    records = random.Random(0).sample([json.loads(line) for line in open(folder / "test.jsonl", encoding="utf-8")], rows)
    texts = [r["text"] for r in records]
    gold = np.array([[label in r["labels"] for label in labels] for r in records])
    prepared = clf.prepare(texts, labels, multi_label=True)
    logits = clf.logits(prepared.pairs).reshape(len(texts), len(labels), -1).astype(np.float64)
    nli_odds = clf.head.log_odds(logits)
    cos = (clf.embedder.embed(texts) @ clf.embedder.embed(labels).T).astype(np.float64)
    half = len(texts) // 2

    def f1(part: slice, c: float, t: float, w: float | None) -> float:
        odds = (cos[part] - c) / t + (w * nli_odds[part] if w is not None else 0)
        return micro_f1_matrix(gold[part], odds > 0)

    tune = {(c, t, w): f1(slice(None, half), c, t, w) for c in OFFSETS for t in MULTI_TEMPERATURES for w in MULTI_WEIGHTS}
    best = max(tune, key=lambda k: tune[k])
    embedding_best = max(((c, t) for c in OFFSETS for t in MULTI_TEMPERATURES), key=lambda k: f1(slice(None, half), *k, None))
    held = slice(half, None)
    return {
        "rows_held_out": len(texts) - half, "tuned": {"offset": best[0], "temperature": best[1], "nli_weight": best[2]},
        "tuning_micro_f1": tune[best],
        "held_out_micro_f1": {
            "nli": micro_f1_matrix(gold[held], nli_odds[held] > 0),
            "embedding (tuned)": f1(held, *embedding_best, None),
            "hybrid (tuned)": f1(held, *best),
        },
    }


def part_two(clf, rows: int, exact_rows_1000: int, many: int = 1000) -> dict:
    """Accuracy against gold, recall@K and time per text on banking77 texts with 77 and ``many`` labels."""
    texts, gold, phrases = sample("banking77", rows)
    results: dict = {}
    for label_set, labels in (("banking77 (77 labels)", phrases), ("1,000 labels", phrases + distractors(many - len(phrases)))):
        cos = clf.embedder.embed(texts) @ clf.embedder.embed(labels).T
        ranks = (cos > cos[np.arange(len(texts)), gold][:, None]).sum(axis=1)  # gold's rank by similarity
        rows_out = {"embedding only": {"accuracy": float((cos.argmax(1) == np.asarray(gold)).mean()), "nli_pairs_per_text": 0}}
        settings = [("exact NLI", "nli", None), ("hybrid, all labels", "hybrid", None)]
        settings += [(f"prefilter K={k}, {scoring} on the K", scoring, k) for k in TOP_KS if k < len(labels) for scoring in ("nli", "hybrid")]
        for setting, scoring, k in tqdm(settings, desc=label_set, unit="setting"):
            # Every text x 1,000 labels would take long: the all-label settings there run on a few texts.
            used = texts[:exact_rows_1000] if k is None and len(labels) > 100 else texts
            started = time.perf_counter()
            out = clf(used, labels, prefilter_top_k=k, scoring=scoring)
            seconds = time.perf_counter() - started
            accuracy = float(np.mean([o[0]["label"] == labels[g] for o, g in zip(out, gold)]))
            rows_out[setting] = {"accuracy": accuracy, "texts": len(used), "recall_at_k": float((ranks < k).mean()) if k else 1.0,
                                 "nli_pairs_per_text": k or len(labels), "seconds_per_text": seconds / len(used)}
        exact = rows_out["exact NLI"]["seconds_per_text"]
        for entry in rows_out.values():
            if entry.get("seconds_per_text"):
                entry["speed_up_vs_exact"] = exact / entry["seconds_per_text"]
        results[label_set] = rows_out
    labels = phrases + distractors(many - len(phrases))
    fresh = type(clf).default(threads=clf.session.inference.get_session_options().intra_op_num_threads)
    started = time.perf_counter()
    fresh(texts[0], labels, prefilter_top_k=10, scoring="hybrid")  # the 1,000 label embeddings are computed here
    results["1,000 labels x one text, K=10: first call s"] = time.perf_counter() - started
    one_text = []
    for text in texts[1:21]:
        started = time.perf_counter()
        fresh(text, labels, prefilter_top_k=10, scoring="hybrid")
        one_text.append(time.perf_counter() - started)
    results["1,000 labels x one text, K=10: p50 s"] = float(np.median(one_text))
    return results


def markdown(result: dict) -> str:
    one = result["hybrid"]
    lines = [f"### Hybrid scoring: accuracy on the held-out half of each shared set (CPU flags: {result['cpu_flags']})", "",
             f"Tuned on the other half: T = {one['tuned']['temperature']}, w = {one['tuned']['nli_weight']} "
             f"(engine defaults: T = {one['engine_defaults']['temperature']}, w = {one['engine_defaults']['nli_weight']}).", "",
             "| set | rows | exact NLI | embedding only | hybrid (tuned) | hybrid (engine defaults) |", "|---|---|---|---|---|---|"]
    for name, r in one["held_out"].items():
        lines.append(f"| {name} | {r['rows_held_out']} | {r['nli']:.3f} | {r['embedding']:.3f} | {r['hybrid (tuned)']:.3f} | {r['hybrid (engine defaults)']:.3f} |")
    m = one["held_out_mean"]
    lines.append(f"| **mean** | | {m['nli']:.3f} | {m['embedding']:.3f} | {m['hybrid (tuned)']:.3f} | {m['hybrid (engine defaults)']:.3f} |")
    lines += ["", f"### Many labels: {result['many_label_rows']} banking77 texts against their 77 labels, and against 1,000", "",
              "| labels | setting | texts | accuracy | recall@K | NLI pairs per text | s per text | speed-up vs exact |", "|---|---|---|---|---|---|---|---|"]
    for label_set, rows in result["many_labels"].items():
        if not isinstance(rows, dict):
            continue
        for setting, r in rows.items():
            speed = f"{r['speed_up_vs_exact']:.1f}x" if "speed_up_vs_exact" in r else ""
            seconds = f"{r['seconds_per_text']:.3f}" if "seconds_per_text" in r else ""
            recall = f"{r['recall_at_k']:.3f}" if "recall_at_k" in r else ""
            lines.append(f"| {label_set} | {setting} | {r.get('texts', '')} | {r['accuracy']:.3f} | {recall} | {r['nli_pairs_per_text']} | {seconds} | {speed} |")
    multi = result["multi_label"]
    lines += ["", f"### Multi-label: goemotions_ekman, micro-F1 at 0.5 on {multi['rows_held_out']} held-out rows", "",
              f"Tuned: {multi['tuned']} (a global offset, not shipped: see multi_label.py for the relative baseline).", "", "| scoring | micro-F1 |", "|---|---|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in multi["held_out_micro_f1"].items()]
    many = result["many_labels"]
    lines += ["", f"1,000 labels x one text (prefilter K=10, hybrid): first call {many['1,000 labels x one text, K=10: first call s']:.2f} s "
              f"(embeds the 1,000 labels), then p50 {many['1,000 labels x one text, K=10: p50 s']:.3f} s (label embeddings cached)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=300, help="rows per set (half tune, half held out)")
    parser.add_argument("--many-label-rows", type=int, default=100, help="banking77 rows for part 2")
    parser.add_argument("--exact-rows-1000", type=int, default=10, help="texts for the all-label settings with 1,000 labels")
    args = parser.parse_args()
    many = 1000
    if args.quick:  # checks the script: 100 labels stand in for 1,000
        args.rows, args.many_label_rows, args.exact_rows_1000, many = 8, 4, 1, 100
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary

    clf = ZeroShotClassifier.default(threads=args.threads)
    result = {"cpu_flags": flags_summary(), "rows": args.rows, "many_label_rows": args.many_label_rows,
              "hybrid": part_one(clf, args.rows), "multi_label": part_three(clf, args.rows),
              "many_labels": part_two(clf, args.many_label_rows, args.exact_rows_1000, many)}
    R.write_results(R.results_base(args.out, "hybrid", args.quick), result, markdown(result))


if __name__ == "__main__":
    main()
