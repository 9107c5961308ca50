"""Where the time of each graph goes, per op type: fp32, the per-row int8 default, its 7-bit-weight
candidate, and the embedded default as shipped (its int8 twin on CPUs with 8-bit dot products),
from onnxruntime's profile of the same AG News calls (part of make bench-avx2).

    python benchmarks/op_profile.py                         # this CPU's own kernels
    python benchmarks/avx2_kernels.py op_profile.py         # AVX2's kernels
    python benchmarks/op_profile.py --quick                 # tiny sizes, for the smoke test
    python benchmarks/op_profile.py --also "before=DIR"     # a model directory of your own beside them

The int8 graphs are the ones benchmarks/int8_sensitivity.py builds (from the same fused,
first-token-pruned fp32 graph). Writes benchmarks/results/<date>-<host>-ops.{json,md}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import contenders as C
import measure as M
import results_io as R
import workloads as W
from tqdm.auto import tqdm

SHOWN_TYPES = 12  # op types per table; the rest are summed as "other"


def variants(quick: bool = False) -> dict[str, Path]:
    import int8_sensitivity as S

    from zsc.engine.loading import default_model_path
    from zsc.export.per_row import Grid

    fp32 = C.zsc_fp32_dir()
    # The embedded default as shipped: on a CPU with 8-bit dot products it runs its int8 twin,
    # which the per-row graph built here (no twin) does not.
    pairs = S.calibration_pairs(quick)
    return {"fp32": fp32, "int8 per-row (default, uint8 weights)": S.per_row(fp32, smooth=True, calibration_pairs=pairs),
            "int8 per-row, 7-bit weights": S.per_row(fp32, smooth=True, grid=Grid(weight_bits=7), calibration_pairs=pairs),
            "the embedded default as shipped": default_model_path()}


def profile(model_dir: Path, texts: list[str], labels: list[str], threads: int, calls: int) -> dict[str, Any]:
    classifier = M.profiled_classifier(model_dir, "cpu", threads)
    classifier(texts[0], labels)  # warm-up: one run, left out below
    for _ in range(calls):
        classifier(texts, labels)
    result = M.op_profile(classifier, skip_runs=1)
    result["ms_per_call_by_type"] = {k: v / calls for k, v in result.pop("node_ms_by_type").items()}
    return result


def table(profiles: dict[str, dict[str, Any]]) -> list[str]:
    names = list(profiles)
    order = list(dict.fromkeys([t for p in profiles.values() for t in list(p["ms_per_call_by_type"])[:SHOWN_TYPES]]))
    order.sort(key=lambda t: -max(p["ms_per_call_by_type"].get(t, 0.0) for p in profiles.values()))
    lines = ["| op type | " + " | ".join(f"{n}: ms per call (share)" for n in names) + " |", "|---|" + "---|" * len(names)]
    for op in order:
        cells = [f"{p['ms_per_call_by_type'].get(op, 0.0):.1f} ({p['node_share_by_type'].get(op, 0.0):.1%})" for p in profiles.values()]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    other = [sum(v for k, v in p["ms_per_call_by_type"].items() if k not in order) for p in profiles.values()]
    lines.append("| other | " + " | ".join(f"{v:.1f}" for v in other) + " |")
    totals = [sum(p["ms_per_call_by_type"].values()) for p in profiles.values()]
    lines.append("| **all nodes** | " + " | ".join(f"**{v:.1f}** ({totals[0] / v:.2f}x fp32)" for v in totals) + " |")
    return lines


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--texts", type=int, default=100)
    parser.add_argument("--calls", type=int, default=3)
    R.add_also(parser)
    args = parser.parse_args()
    if args.quick:
        args.texts, args.calls = 4, 1
    from zsc.engine.cpu import flags_summary

    texts, labels = W.ag_news(args.texts)
    built = variants(args.quick) | dict(args.also)
    profiles = {name: profile(path, texts, labels, args.threads, args.calls) for name, path in tqdm(built.items(), desc="profile")}
    lines = [f"### Node time per op type: {len(texts)} AG News texts x {len(labels)} labels per call, {args.calls} calls; "
             f"CPU flags: {flags_summary()}; kernels: {R.kernels()}; {args.threads} threads", "", *table(profiles), "",
             "Node time is onnxruntime's own (its profile's kernel times); a call's wall time adds tokenising, "
             "batching and scoring."]
    data = {"cpu_flags": flags_summary(), "kernels": R.kernels(), "threads": args.threads, "texts": len(texts), "labels": labels,
            "calls": args.calls, "variants": profiles}
    R.write_results(R.results_base(args.out, "ops", args.quick), data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
