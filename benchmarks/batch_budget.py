"""The CPU's batch budget: pairs per second of one model at each (rows, tokens) budget, in one run.

    python benchmarks/batch_budget.py                      # the embedded default model
    python benchmarks/batch_budget.py --texts 16 --rounds 2 --budgets 16x2048,64x1024,32x512 --no-embedded \
        --also "bart-large-shaped=benchmarks/.cache/large/bart-large-mnli/zsc"   # after make bench-large
    python benchmarks/batch_budget.py --quick              # tiny sizes, for the smoke test

A batch holds at most ``rows`` pairs and ``rows x longest row`` <= ``tokens`` padded tokens
(engine/batching.py); zsc lifts the token budget to one window of the model (512 tokens here), so
a row of 512 tokens always fits. Every budget is a classifier of its own over the same model,
timed in interleaved rounds on the same calls: AG News x 4 labels and 50 labels (exact NLI, every
label, as run.py), near-512-token texts x 5 labels, banking77's short texts x 5 labels, and the
default call (scoring "auto", which runs the embedder too, whose batches follow the same budget).
Scores do not depend on the budget (the default int8 graph is batch-invariant), only speed does.
``--also`` adds model directories (the large shapes ``make bench-large`` exports, say), each run
with every budget. Writes results/<date>-<host>-batch-budget.{json,md}.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import measure as M
import results_io as R
import workloads as W
from tqdm.auto import tqdm

# (rows, tokens): 16 x 2048 was the CPU's default before this sweep chose one.
BUDGETS = [(16, 2048), (64, 4096), (64, 2048), (64, 1024), (64, 768), (64, 512), (32, 512), (16, 512), (8, 512)]
SHORT_LABELS = ["card", "refund", "transfer", "balance", "pin"]


def workloads(texts: int) -> dict[str, tuple[list[str], list[str], dict[str, Any]]]:
    """name -> (texts, labels, call options)."""
    ag_texts, ag_labels = W.ag_news(texts)
    exact: dict[str, Any] = {"scoring": "nli", "prefilter_top_k": None}
    return {
        "AG News x 4": (ag_texts, ag_labels, exact),
        "50 labels": (ag_texts[: max(2, texts // 12)], W.many_labels(50), exact),
        "near 512 x 5": (W.long_texts(max(1, texts // 25)), ag_labels + ["Health"], exact),
        "short x 5": (W.texts_file(W.ZSC_DATA / "banking77/test.jsonl", texts), SHORT_LABELS, exact),
        "default call, AG News x 4": (ag_texts, ag_labels, {}),
    }


def measure_model(model_dir: Path | None, budgets: list[tuple[int, int]], texts: int, rounds: int, threads: int) -> dict[str, Any]:
    from zsc.engine import ZeroShotClassifier

    def load(rows: int, tokens: int) -> Any:
        options = {"provider": "cpu", "threads": threads, "batch_size": rows, "max_batch_tokens": tokens}
        return ZeroShotClassifier.default(**options) if model_dir is None else ZeroShotClassifier.from_pretrained(model_dir, **options)

    classifiers = {budget: load(*budget) for budget in budgets}
    first = classifiers[budgets[0]]
    result: dict[str, Any] = {"precision": first.precision, "effective_budgets": {
        label(b): [c.batch_size, c.max_batch_tokens] for b, c in classifiers.items()}, "pairs_per_s": {}}
    for name, (call_texts, labels, options) in tqdm(workloads(texts).items(), desc="workloads", leave=False):
        runs = {label(b): call(c, call_texts, labels, options) for b, c in classifiers.items()}
        for run in runs.values():
            run()  # warm-up: first-run allocations stay out of the timing
        times = M.interleaved(runs, rounds)
        pairs = len(call_texts) * len(labels)
        result["pairs_per_s"][name] = {b: pairs / M.summary(t)["median"] for b, t in times.items()}
    return result


def call(classifier: Any, texts: list[str], labels: list[str], options: dict[str, Any]) -> Callable[[], Any]:
    return lambda: classifier(texts, labels, **options)


def budget_list(value: str) -> list[tuple[int, int]]:
    """``--budgets 16x2048,32x512``: rows x tokens, comma-separated."""
    try:
        budgets = [(int(rows), int(tokens)) for rows, tokens in (item.split("x") for item in value.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--budgets takes ROWSxTOKENS,... (16x2048,32x512); got {value!r}") from None
    if any(rows < 1 or tokens < 1 for rows, tokens in budgets):
        raise argparse.ArgumentTypeError(f"--budgets: rows and tokens must be positive; got {value!r}")
    return budgets


def label(budget: tuple[int, int]) -> str:
    return f"{budget[0]} rows, {budget[1]} tokens"


def table(name: str, result: dict[str, Any], default: str) -> list[str]:
    rates = result["pairs_per_s"]
    lines = [f"#### {name} ({result['precision']}): pairs/s, and × the default budget ({default})", "",
             "| budget | " + " | ".join(rates) + " |", "|---|" + "---|" * len(rates)]
    for budget in next(iter(rates.values())):
        cells = [f"{rates[w][budget]:.1f} ({rates[w][budget] / rates[w][default]:.2f}×)" for w in rates]
        shown = f"**{budget}** (default)" if budget == default else budget
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    return lines + [""]


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts", type=int, default=200, help="AG News and banking77 texts per call (others scale with it)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budgets", type=budget_list, default=BUDGETS, help="ROWSxTOKENS,... (the CPU default is always added)")
    parser.add_argument("--no-embedded", action="store_true", help="only the --also models")
    R.add_also(parser)
    args = parser.parse_args()
    from zsc.engine.cpu import flags_summary
    from zsc.engine.defaults import PROVIDER_FEEDING

    cpu = PROVIDER_FEEDING["cpu"]
    default = (cpu.batch_size, cpu.max_batch_tokens)
    budgets = list(dict.fromkeys(args.budgets + [default]))
    if args.quick:
        args.texts, args.rounds, budgets = 4, 1, list(dict.fromkeys([BUDGETS[0], default]))
    models: dict[str, Path | None] = ({} if args.no_embedded else {"the embedded default": None}) | dict(args.also)
    if not models:
        parser.error("--no-embedded leaves no model: add --also NAME=DIR")
    results = {name: measure_model(path, budgets, args.texts, args.rounds, args.threads)
               for name, path in tqdm(models.items(), desc="models")}
    lines = [f"### Batch budgets on the CPU: {args.texts} texts, {args.rounds} interleaved rounds (median); "
             f"CPU flags: {flags_summary()}; kernels: {R.kernels()}; {args.threads} threads", ""]
    for name, result in results.items():
        lines += table(name, result, label(default))
    data = {"cpu_flags": flags_summary(), "kernels": R.kernels(), "threads": args.threads, "texts": args.texts,
            "rounds": args.rounds, "default_budget": list(default), "models": results}
    R.write_results(R.results_base(args.out, "batch-budget", args.quick), data, "\n".join(lines))


if __name__ == "__main__":
    main()
