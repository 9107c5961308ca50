"""zsc against transformers' pipeline and optimum, side by side, in one run.

    python benchmarks/run.py                 # default sizes (make bench), ~11 minutes on 2 cores
    python benchmarks/run.py --texts 1000 --texts-50 200 --long-texts 100   # the issue's sizes, ~1 hour
    python benchmarks/run.py --quick         # tiny sizes, for the smoke test
    python benchmarks/run.py --also "zsc before=DIR"   # a zsc model directory of your own beside them

Writes benchmarks/results/<date>-<host>.json, .md (tables) and .png (plot).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import platform
import socket
import statistics
import subprocess
import sys
import time

import contenders as C
import measure as M
import report
import results_io as R
import workloads as W
from tqdm.auto import tqdm

# MiniLM-L6 (6 layers, hidden 384, FFN 1536): 2 FLOPs per multiply-add over the encoder weights per
# token, plus attention scores/values (~2*2*L*384 per layer at L tokens), here for L≈64.
FLOPS_PER_TOKEN = 2 * 6 * (4 * 384 * 384 + 2 * 384 * 1536) + 6 * 4 * 64 * 384
# A first-token-pruned graph skips the last layer's output projection and feed-forward block for
# every token but the first.
PRUNED_FLOPS_PER_TOKEN = 2 * (384 * 384 + 2 * 384 * 1536)
COLD_START_RUNS = 3


def parse() -> argparse.Namespace:
    parser = R.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=240, help="AG News texts for the 4-label throughput run")
    parser.add_argument("--texts-50", type=int, default=16, help="texts for the 50-label run")
    parser.add_argument("--long-texts", type=int, default=16, help="texts near max length (x 5 labels)")
    parser.add_argument("--latency-calls", type=int, default=200)
    R.add_also(parser)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.texts, args.texts_50, args.long_texts, args.latency_calls = 1, 8, 1, 1, 5
    return args


def best_torch_batch(threads: int, quick: bool) -> tuple[int, dict[str, float]]:
    texts, labels = W.ag_news(2 if quick else 48)
    rates = {}
    for batch in (1, 8, 32):
        contender = C.torch_pipeline(threads, batch)
        contender.classify(texts[:2], labels)
        rates[str(batch)] = len(texts) * len(labels) / M.timed(functools.partial(contender.classify, texts, labels))
    return int(max(rates, key=rates.get)), rates


def throughput(contenders: list[C.Contender], texts: list[str], labels: list[str], rounds: int, bar) -> dict:
    for c in contenders:
        c.classify(texts[:2], labels)  # warm-up
    times = M.interleaved({c.name: (lambda c=c: c.classify(texts, labels)) for c in contenders}, rounds, bar)
    pairs = len(texts) * len(labels)
    out = {}
    for name, seconds in times.items():
        rates = [pairs / s for s in seconds]
        out[name] = {"pairs_per_s": M.summary(rates), "texts_per_s": M.summary([len(texts) / s for s in seconds])}
    return out


def latency(contenders: list[C.Contender], calls: int, rounds: int, bar) -> dict:
    """One short text x 3 labels per call, each contender in its own blocks (measure.block_latency)."""
    runs = {c.name: functools.partial(c.classify, [W.LATENCY_TEXT], W.LATENCY_LABELS) for c in contenders}
    return M.block_latency(runs, calls, rounds, bar)


def cold_start_stacks(threads: int) -> dict[str, str]:
    """Code that loads each stack and gets its first result: zsc per precision, and the torch pipeline."""
    call = f"c({W.LATENCY_TEXT!r}, {W.LATENCY_LABELS!r})"

    def zsc(load: str) -> str:
        return f"from zsc.engine import ZeroShotClassifier; c = ZeroShotClassifier.{load}; {call}"

    return {
        "zsc int8 (default)": zsc(f"default(threads={threads})"),
        "zsc int8-dynamic": zsc(f"from_pretrained({str(C.zsc_dynamic_int8_dir())!r}, threads={threads})"),
        "zsc fp32": zsc(f"from_pretrained({str(C.zsc_fp32_dir())!r}, threads={threads})"),
        "transformers torch": f"import torch; torch.set_num_threads({threads}); from transformers import pipeline; "
        f"p = pipeline('zero-shot-classification', model={str(C.MINILM)!r}, device=-1); "
        f"p({W.LATENCY_TEXT!r}, candidate_labels={W.LATENCY_LABELS!r})",
    }


def cold_start(threads: int, runs_each: int = COLD_START_RUNS) -> dict:
    out = {}
    for name, body in cold_start_stacks(threads).items():
        code = "import time; t0 = time.perf_counter(); " + body + f"; print(time.perf_counter() - t0, {M.PEAK_RSS_KB})"
        runs = []
        for _ in range(runs_each):
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
            wall = time.perf_counter() - start
            if result.returncode != 0:
                raise RuntimeError(f"cold start of {name} failed: {result.stderr[-2000:]}")
            first_result_s, rss_kb = result.stdout.split()[-2:]
            runs.append((float(first_result_s), wall, int(rss_kb) / 1024))
        first, walls, rss = zip(*runs)
        out[name] = {"first_result_s": statistics.median(first), "first_result_s_spread": [min(first), max(first)],
                     "process_wall_s": statistics.median(walls), "peak_rss_mb": max(rss), "runs": runs_each}
    return out


def main() -> None:
    from zsc.engine.cpu import flags_summary

    args = parse()
    host = socket.gethostname().split(".")[0]
    results: dict = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": host,
        "machine": {"cpu": platform.processor() or platform.machine(), "cpu_flags": flags_summary(), "kernels": R.kernels(), "threads": args.threads,
                    "python": platform.python_version()},
        "model": str(C.MINILM.name),
        "quick": args.quick,
        "settings": vars(args) | {"out": str(args.out), "also": [[name, str(folder)] for name, folder in args.also]},
    }
    batch, batch_rates = best_torch_batch(args.threads, args.quick)
    results["torch_batch_search_pairs_per_s"] = batch_rates
    contenders = [C.torch_pipeline(args.threads, batch)] + C.all_contenders(args.threads)[1:]
    contenders += [dataclasses.replace(C.zsc(folder, args.threads, "int8"), name=name) for name, folder in args.also]
    texts, labels = W.ag_news(args.texts)
    work = args.rounds * len(contenders) * 4
    with tqdm(total=work, desc="benchmark", unit="run") as bar:
        results["throughput_ag_news_4_labels"] = throughput(contenders, texts, labels, args.rounds, bar)
        results["throughput_50_labels"] = throughput(contenders, texts[: args.texts_50], W.many_labels(50), args.rounds, bar)
        results["long_input_5_labels"] = throughput(contenders, W.long_texts(args.long_texts), labels + ["Health"], args.rounds, bar)
        results["latency_1_text_3_labels"] = latency(contenders, args.latency_calls, args.rounds, bar)
    results["cold_start"] = cold_start(args.threads, 1 if args.quick else COLD_START_RUNS)
    results["install_size_mb"] = {
        # zsc's own files (with the 23 MB embedded model) plus what it requires; an editable
        # install's RECORD does not list them.
        "zsc runtime (numpy, tokenizers, onnxruntime + deps)": M.distribution_size_mb(["numpy", "tokenizers", "onnxruntime"])
        + M.package_tree_mb(["zsc.engine", "zsc.export"]),
        "torch + transformers (+ deps)": M.distribution_size_mb(["torch", "transformers"]),
    }
    tokens_per_pair = _mean_tokens(texts, labels)
    peak = M.matmul_peak_gops(args.threads)
    results["efficiency"] = {"tokens_per_pair": tokens_per_pair, "flops_per_token": FLOPS_PER_TOKEN, "matmul_peak": peak, "contenders": {}}
    by_name = {c.name: c for c in contenders}
    results["efficiency"]["pruned_flops_per_token"] = PRUNED_FLOPS_PER_TOKEN
    for name, entry in results["throughput_ag_news_4_labels"].items():
        flops_per_pair = tokens_per_pair * FLOPS_PER_TOKEN
        if by_name[name].first_token_only:
            flops_per_pair -= (tokens_per_pair - 1) * PRUNED_FLOPS_PER_TOKEN  # work the graph does not do
        achieved = entry["pairs_per_s"]["median"] * flops_per_pair / 1e9
        limit = peak["int8_gops"] if "int8" in by_name[name].precision else peak["fp32_gops"]  # an --also NAME may say neither
        results["efficiency"]["contenders"][name] = {"achieved_gops": achieved, "fraction_of_matmul_peak": achieved / limit,
                                                     "first_token_only": by_name[name].first_token_only}
    accuracy_file = R.results_base(args.out, "accuracy").with_suffix(".json")
    if accuracy_file.exists():
        results["accuracy"] = json.loads(accuracy_file.read_text())
    base = R.results_base(args.out, quick=args.quick)
    R.write_results(base, results, report.markdown(results))
    report.plot(results, base.with_suffix(".png"))
    print(f"wrote {base}.json, .md and .png")


def _mean_tokens(texts: list[str], labels: list[str]) -> float:
    from zsc.engine import ZeroShotClassifier

    encoder = ZeroShotClassifier.default().encoder
    pairs = encoder.pairs(texts, [f"This example is {l}." for l in labels], labels)
    return float(pairs.lengths.mean() + encoder.layout.num_special)


if __name__ == "__main__":
    main()
