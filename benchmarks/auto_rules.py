"""How the call with no knobs treats a long label list, chosen on data (make bench-auto).

    python benchmarks/auto_rules.py [--rows 400] [--quick]

The shared sets with more than ten labels (banking77: 77 intents, massive: 59; labels verbalised),
--rows rows each, drawn with a fixed seed. Each set's rows are cut in two halves. K, the labels
the embedder's prefilter keeps for the hybrid to rank, is chosen on the first halves (the best
mean accuracy; the smaller K on a tie) and reported on the second, beside exact NLI (the
pipeline), the embedding alone and the hybrid over every label. Every score comes from the
engine's own functions over one NLI pass and one embedding pass (a pair's logits do not depend
on which other pairs run: per-row int8 is batch-invariant); then the default call itself runs on
the held-out rows, timed against exact NLI, and must pick the same labels as computed.
Writes results/<date>-<host>-auto-rules.{json,md}.
"""

from __future__ import annotations

import time

import numpy as np
import results_io as R
import workloads as W
from metrics import labelled_sample, nli_and_cosine
from tqdm import tqdm

from zsc.engine.defaults import EMBEDDING_TEMPERATURE, HYBRID_NLI_WEIGHT
from zsc.engine.scoring import hybrid_scores

SETS = ("banking77", "massive")
CANDIDATE_K = (3, 5, 8, 10, 15, 20, 30)


def prefilter_top1(logits: np.ndarray, cosine: np.ndarray, head, k: int) -> np.ndarray:
    """Each text's top label with the K most similar labels ranked by the hybrid (as the engine plans it)."""
    chosen = np.argsort(-cosine, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(cosine))[:, None]
    scores = hybrid_scores(logits[rows, chosen], head, cosine[rows, chosen], EMBEDDING_TEMPERATURE, HYBRID_NLI_WEIGHT)
    return chosen[np.arange(len(cosine)), scores.argmax(axis=1)]


def prefilter_mode(k: int) -> str:
    return f"prefilter K={k} + hybrid"


def accuracies(logits: np.ndarray, cosine: np.ndarray, gold: np.ndarray, head) -> dict[str, float]:
    found = {"exact NLI (the pipeline)": head.entailment(logits).argmax(axis=1), "embedding alone": cosine.argmax(axis=1),
             "hybrid, every label": hybrid_scores(logits, head, cosine, EMBEDDING_TEMPERATURE, HYBRID_NLI_WEIGHT).argmax(axis=1)}
    found |= {prefilter_mode(k): prefilter_top1(logits, cosine, head, k) for k in CANDIDATE_K}
    return {name: float((top == gold).mean()) for name, top in found.items()}


def timed(call, *args, **kwargs) -> tuple[float, list]:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return time.perf_counter() - started, result


def markdown(result: dict) -> str:
    lines = [f"# scoring='auto' with many labels ({result['cpu_flags']})", "",
             f"{result['rows']} rows per set; K chosen on the first halves: **K = {result['chosen_k']}** "
             f"(tuning mean accuracy {result['tuning_mean'][result['chosen_k_name']]:.3f}).", "",
             "| held-out accuracy | " + " | ".join(SETS) + " | mean |", "|---|" + "---|" * (len(SETS) + 1)]
    for name in result["held_out"][SETS[0]]:
        values = [result["held_out"][s][name] for s in SETS]
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {np.mean(values):.3f} |")
    lines += ["", "| the call itself, held-out rows | " + " | ".join(SETS) + " |", "|---|" + "---|" * len(SETS)]
    for key in ("default call accuracy", "exact NLI seconds", "default call seconds", "speed-up"):
        lines.append(f"| {key} | " + " | ".join(f"{result['calls'][s][key]:.3f}" for s in SETS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=400)
    args = parser.parse_args()
    if args.quick:
        args.rows = 16
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary
    from zsc.engine.defaults import AUTO_PREFILTER_TOP_K

    clf = ZeroShotClassifier.default(threads=args.threads)
    data = {}
    for name in tqdm(SETS, desc="NLI over every label", unit="set"):
        texts, gold, labels = labelled_sample(W.ZSC_DATA / name, args.rows, seed=0)
        logits, cosine, _ = nli_and_cosine(clf, texts, labels)
        data[name] = (texts, gold, labels, logits, cosine)
    half = args.rows // 2
    tuning = {name: accuracies(x[3][:half], x[4][:half], x[1][:half], clf.head) for name, x in data.items()}
    tuning_mean = {mode: float(np.mean([tuning[s][mode] for s in SETS])) for mode in tuning[SETS[0]]}
    chosen_k = max(CANDIDATE_K, key=lambda k: (tuning_mean[prefilter_mode(k)], -k))  # the smaller K on a tie
    chosen_name = prefilter_mode(chosen_k)
    held_out = {name: accuracies(x[3][half:], x[4][half:], x[1][half:], clf.head) for name, x in data.items()}
    calls = {}
    for name, (texts, gold, labels, logits, cosine) in tqdm(data.items(), desc="the default call, timed", unit="set"):
        held_texts = texts[half:]
        exact_seconds, _ = timed(clf, held_texts, labels, scoring="nli")
        default_seconds, ranked = timed(clf, held_texts, labels)
        top = np.array([labels.index(row[0]["label"]) for row in ranked])
        expected = prefilter_top1(logits[half:], cosine[half:], clf.head, AUTO_PREFILTER_TOP_K)
        calls[name] = {"default call accuracy": float((top == gold[half:]).mean()), "exact NLI seconds": exact_seconds,
                       "default call seconds": default_seconds, "speed-up": exact_seconds / default_seconds,
                       "same labels as computed": bool((top == expected).all())}
    result = {"cpu_flags": flags_summary(), "rows": args.rows, "sets": list(SETS), "candidate_k": list(CANDIDATE_K),
              "chosen_k": chosen_k, "chosen_k_name": chosen_name, "engine_k": AUTO_PREFILTER_TOP_K,
              "tuning": tuning, "tuning_mean": tuning_mean, "held_out": held_out, "calls": calls}
    R.write_results(R.results_base(args.out, "auto-rules", args.quick), result, markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
