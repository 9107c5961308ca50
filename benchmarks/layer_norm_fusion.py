"""A residual layer norm on the CPU: onnxruntime's fused SkipLayerNormalization against the Add, Add
and LayerNormalization it replaces, at the shapes zsc's models feed it.

    python benchmarks/layer_norm_fusion.py            # hidden sizes 384 (MiniLM), 768 (base), 1024 (large)
    python benchmarks/layer_norm_fusion.py --also "deberta-v3-base-shaped=benchmarks/.cache/large/deberta-v3-base/zsc"
    python benchmarks/layer_norm_fusion.py --quick    # tiny sizes, for the smoke test

Each hidden size gets three one-op graphs over the same inputs (a layer's output, its residual,
the dense bias): the fused contrib op; the three ops as zsc's CPU session loads them
(``zsc.engine.session.UNFUSED_AT_LOAD`` keeps onnxruntime from fusing them back); and the same
three ops loaded with onnxruntime's defaults, which fuse them (a check that the fusion is what
is measured). They are timed in blocks alternating over rounds at three shapes: one short text with 3 labels
(3 pairs x 38 tokens), a batch at the CPU's default budget (32 pairs x 16 tokens), and one pair
of 512 tokens. zsc's exports leave these norms unfused because of what this measures.

Then whole models, side by side: the embedded default and each ``--also`` directory (an export
made with the norms unfused), each loaded twice, as zsc's CPU session loads it and with
onnxruntime's load-time fusion let back in, timed in interleaved rounds on AG News x 4 labels
(exact NLI over every label, as run.py) and on one short text x 3 labels (p50, in blocks). The
table says how many SkipLayerNormalization nodes each session runs: onnxruntime's load-time fusion
re-fuses the embedded MiniLM's norms but not every architecture's (where it fuses none, the two
loads are the same graph and the comparison says nothing).
Writes results/<date>-<host>-layer-norm.{json,md}.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import measure as M
import numpy as np
import onnx
import onnxruntime as ort
import results_io as R
import workloads as W
from tqdm.auto import tqdm

from zsc.engine import session as engine_session
from zsc.engine.cpu import flags_summary
from zsc.engine.loading import default_model_path
from zsc.engine.session import UNFUSED_AT_LOAD

HIDDEN_SIZES = (384, 768, 1024)
SHAPES = {"one text, 3 labels (3 x 38)": (3, 38), "a default batch (32 x 16)": (32, 16), "one pair of 512 tokens (1 x 512)": (1, 512)}
EPSILON = 1e-12


def graphs(hidden: int) -> dict[str, Any]:
    """name -> (onnx model, the optimisers its session runs without)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(hidden)
    weights = [numpy_helper.from_array(rng.standard_normal(hidden).astype(np.float32), name) for name in ("gamma", "beta", "bias")]
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "tokens", hidden]) for name in ("x", "residual")]
    output = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", hidden])]

    def model(nodes: list[Any]) -> Any:
        graph = helper.make_graph(nodes, "residual_norm", inputs, output, weights)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])

    fused = model([helper.make_node("SkipLayerNormalization", ["x", "residual", "gamma", "beta", "bias"], ["y"],
                                    domain="com.microsoft", epsilon=EPSILON)])
    unfused = model([helper.make_node("Add", ["x", "bias"], ["biased"]), helper.make_node("Add", ["biased", "residual"], ["summed"]),
                     helper.make_node("LayerNormalization", ["summed", "gamma", "beta"], ["y"], axis=-1, epsilon=EPSILON)])
    return {"SkipLayerNormalization": (fused, []),
            "Add, Add, LayerNormalization (zsc's CPU session)": (unfused, list(UNFUSED_AT_LOAD["cpu"])),
            "the same, onnxruntime's default load (fuses them)": (unfused, [])}


def session(model: Any, disabled: list[str], threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled)


def measure(hidden: int, shape: tuple[int, int], threads: int, rounds: int, runs: int) -> dict[str, Any]:
    """Median microseconds per run of each graph (in blocks, alternating over the rounds), and its
    largest output difference from the fused op."""
    rng = np.random.default_rng(0)
    feed = {name: rng.standard_normal((*shape, hidden)).astype(np.float32) for name in ("x", "residual")}
    sessions = {name: session(model, disabled, threads) for name, (model, disabled) in graphs(hidden).items()}
    outputs = {name: s.run(None, feed)[0] for name, s in sessions.items()}
    reference = outputs["SkipLayerNormalization"]
    latency = M.block_latency({name: lambda s=s: s.run(None, feed) for name, s in sessions.items()}, runs * rounds, rounds)
    return {name: {"us": latency[name]["p50_ms"] * 1000, "max_abs_diff": float(np.abs(outputs[name] - reference).max())}
            for name in sessions}


def whole_model(model_dir: Path, texts: int, rounds: int, latency_calls: int, threads: int) -> dict[str, Any]:
    """AG News x 4 pairs/s (median of the rounds) and one text's p50 ms, as zsc loads the model and
    with onnxruntime's load-time fusion of the norms let back in."""

    def load(fusing: bool) -> tuple[Any, int]:
        """The classifier, and how many SkipLayerNormalization nodes its session runs (read from
        the graph onnxruntime writes after its load-time optimisations)."""
        unfused = {provider: () for provider in UNFUSED_AT_LOAD} if fusing else UNFUSED_AT_LOAD
        with tempfile.TemporaryDirectory() as folder:
            loaded = Path(folder) / "loaded.onnx"

            def writing_the_loaded_graph(options: Any) -> None:
                options.optimized_model_filepath = str(loaded)
                options.add_session_config_entry("session.optimized_model_external_initializers_file_name", "weights.bin")

            with mock.patch.object(engine_session, "UNFUSED_AT_LOAD", unfused):
                classifier = M.classifier_with_session_options(model_dir, "cpu", threads, writing_the_loaded_graph)
            nodes = onnx.load(str(loaded), load_external_data=False).graph.node
            return classifier, sum(node.op_type == "SkipLayerNormalization" for node in nodes)

    loaded = {"as zsc loads it": load(False), "onnxruntime's fusion at load": load(True)}
    classifiers = {name: classifier for name, (classifier, _) in loaded.items()}
    ag_texts, ag_labels = W.ag_news(texts)
    exact = {"scoring": "nli", "prefilter_top_k": None}
    for classifier in classifiers.values():
        classifier(ag_texts[:2], ag_labels, **exact)  # warm-up
    seconds = M.interleaved({name: lambda c=c: c(ag_texts, ag_labels, **exact) for name, c in classifiers.items()}, rounds)
    latency = M.block_latency({name: lambda c=c: c([W.LATENCY_TEXT], W.LATENCY_LABELS, **exact) for name, c in classifiers.items()},
                              latency_calls, rounds)
    pairs = len(ag_texts) * len(ag_labels)
    return {name: {"pairs_per_s": statistics.median(pairs / s for s in seconds[name]), "one_text_p50_ms": latency[name]["p50_ms"],
                   "skip_layer_norms_run": loaded[name][1]} for name in classifiers}


def model_table(models: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| model (int8 default graph) | SkipLayerNormalization nodes run: fusion at load → as zsc loads it "
             "| AG News × 4 pairs/s | × | one text p50 ms |", "|---|---|---|---|---|"]
    for name, measured in models.items():
        fused, unfused = measured["onnxruntime's fusion at load"], measured["as zsc loads it"]
        lines.append(f"| {name} | {fused['skip_layer_norms_run']} → {unfused['skip_layer_norms_run']} "
                     f"| {fused['pairs_per_s']:.1f} → {unfused['pairs_per_s']:.1f} | **{unfused['pairs_per_s'] / fused['pairs_per_s']:.2f}×** "
                     f"| {fused['one_text_p50_ms']:.1f} → {unfused['one_text_p50_ms']:.1f} |")
    return lines


def table(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    lines = ["| hidden | shape | SkipLayerNormalization (µs) | Add, Add, LayerNormalization in zsc's session (µs) | fused ÷ unfused "
             "| onnxruntime's default load (µs) | max abs diff |", "|---|---|---|---|---|---|---|"]
    for key, measured in results.items():
        hidden, shape = key.split(" | ")
        fused, unfused, default = (m["us"] for m in measured.values())
        diff = max(m["max_abs_diff"] for m in measured.values())
        lines.append(f"| {hidden} | {shape} | {fused:.1f} | {unfused:.1f} | **{fused / unfused:.2f}×** | {default:.1f} | {diff:.1e} |")
    return lines


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200, help="runs per graph per round")
    parser.add_argument("--texts", type=int, default=16, help="AG News texts per call for the whole models")
    parser.add_argument("--latency-calls", type=int, default=50)
    R.add_also(parser)
    args = parser.parse_args()
    hidden_sizes, shapes = HIDDEN_SIZES, SHAPES
    if args.quick:
        hidden_sizes, shapes, args.rounds, args.runs, args.texts, args.latency_calls = (64,), dict(list(SHAPES.items())[:1]), 1, 5, 2, 3
    cases = [(hidden, name, shape) for hidden in hidden_sizes for name, shape in shapes.items()]
    results = {f"{hidden} | {name}": measure(hidden, shape, args.threads, args.rounds, args.runs)
               for hidden, name, shape in tqdm(cases, desc="shapes")}
    directories = {"the embedded default (MiniLM)": default_model_path()} | dict(args.also)
    models = {name: whole_model(folder, args.texts, args.rounds, args.latency_calls, args.threads)
              for name, folder in tqdm(directories.items(), desc="models")}
    header = (f"### A residual layer norm on the CPU: median µs per run, {args.rounds} rounds of {args.runs} runs per graph in blocks; "
              f"onnxruntime {ort.__version__}; CPU flags: {flags_summary()}; kernels: {R.kernels()}; {args.threads} threads")
    models_header = (f"### Whole models: {args.texts} AG News texts × 4 labels (exact NLI), {args.rounds} interleaved rounds (median); "
                     f"one text × 3 labels, p50 of {args.latency_calls} calls in blocks")
    data = {"cpu_flags": flags_summary(), "kernels": R.kernels(), "onnxruntime": ort.__version__, "threads": args.threads,
            "rounds": args.rounds, "runs": args.runs, "texts": args.texts, "results": results, "models": models}
    markdown = [header, "", *table(results), "", models_header, "", *model_table(models), ""]
    R.write_results(R.results_base(args.out, "layer-norm", args.quick), data, "\n".join(markdown))


if __name__ == "__main__":
    main()
