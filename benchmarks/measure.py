"""Timing helpers: interleaved rounds, percentiles, peak MatMul throughput, install sizes."""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

# A Python expression, for code run in a fresh process: that process's peak RSS in kB. VmHWM, not
# ru_maxrss: ru_maxrss keeps the forking parent's peak across exec.
PEAK_RSS_KB = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(runs: dict[str, Callable[[], Any]], rounds: int, progress: Any = None) -> dict[str, list[float]]:
    """Seconds per run, contenders alternating A B C A B C so machine noise hits all of them."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            times[name].append(timed(fn))
            if progress is not None:
                progress.update()
    return times


def block_latency(runs: dict[str, Callable[[], Any]], calls: int, rounds: int, progress: Any = None) -> dict[str, dict[str, float]]:
    """Per-call latency percentiles, each contender timed in its own block (after 3 warm-up calls),
    blocks alternating over ``rounds``.

    Alternating call by call would time each contender against the previous one's still-spinning
    thread pool (measured: ~3x slower for every contender on 2 cores), not its own latency.
    """
    samples: dict[str, list[float]] = {name: [] for name in runs}
    per_block = max(1, calls // rounds)
    for _ in range(rounds):
        for name, fn in runs.items():
            for _ in range(3):
                fn()
            samples[name] += [timed(fn) for _ in range(per_block)]
            if progress is not None:
                progress.update()
    return {name: percentiles(values) for name, values in samples.items()}


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values) * 1000
    return {"p50_ms": float(np.percentile(array, 50)), "p95_ms": float(np.percentile(array, 95)), "p99_ms": float(np.percentile(array, 99))}


def matmul_peak_gops(threads: int, m: int = 1024, k: int = 384, n: int = 1536, repeats: int = 20) -> dict[str, float]:
    """Measured onnxruntime MatMul (fp32) and MatMulInteger (u8 x s8) throughput at the model's shapes."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    results = {}
    for kind in ("fp32", "int8"):
        if kind == "fp32":
            weight = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")
            node = helper.make_node("MatMul", ["x", "w"], ["y"])
            x_type, y_type, x = TensorProto.FLOAT, TensorProto.FLOAT, rng.standard_normal((m, k)).astype(np.float32)
        else:
            weight = numpy_helper.from_array(rng.integers(-127, 127, (k, n)).astype(np.int8), "w")
            node = helper.make_node("MatMulInteger", ["x", "w"], ["y"])
            x_type, y_type, x = TensorProto.UINT8, TensorProto.INT32, rng.integers(0, 255, (m, k)).astype(np.uint8)
        graph = helper.make_graph([node], kind, [helper.make_tensor_value_info("x", x_type, [m, k])],
                                  [helper.make_tensor_value_info("y", y_type, [m, n])], initializer=[weight])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        session.run(None, {"x": x})
        run = functools.partial(session.run, None, {"x": x})
        best = min(timed(run) for _ in range(repeats))
        results[f"{kind}_gops"] = 2 * m * k * n / best / 1e9
    return results


def package_tree_mb(modules: list[str]) -> float:
    """Size of the packages' folders as a wheel ships them (source, data files, no bytecode).

    An editable install's RECORD lists only its import hook, so its own files are counted here."""
    import importlib

    total = 0
    for module in modules:
        folder = Path(importlib.import_module(module).__file__).parent
        total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return total / 1e6


def distribution_size_mb(roots: list[str]) -> float:
    """Installed size of distributions and everything they require (from their RECORD files)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    stack = list(roots)
    total = 0
    while stack:
        name = stack.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            stack.append(Requirement(requirement).name)
    return total / 1e6


def classifier_with_session_options(model_dir: Path, provider: str, threads: int, adjust: Callable[[Any], None]) -> Any:
    """A ZeroShotClassifier loaded as usual (graph, provider, the int8 twin), ``adjust`` applied to
    its onnxruntime session options before the session is created."""
    from unittest import mock

    from zsc.engine import ZeroShotClassifier
    from zsc.engine import session as engine_session

    plain = engine_session.session_options

    def adjusted(*args: Any, **kwargs: Any) -> Any:
        options = plain(*args, **kwargs)
        adjust(options)
        return options

    with mock.patch.object(engine_session, "session_options", adjusted):
        return ZeroShotClassifier.from_pretrained(model_dir, provider=provider, threads=threads)


def profiled_classifier(model_dir: Path, provider: str, threads: int) -> Any:
    """A ZeroShotClassifier whose onnxruntime session records onnxruntime's profile (the graph
    and provider chosen as usual, the int8 twin included); ``op_profile`` reads it at the end."""
    import tempfile

    def profiling(options: Any) -> None:
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "zsc")

    return classifier_with_session_options(model_dir, provider, threads, profiling)


def op_profile(classifier: Any, skip_runs: int = 0) -> dict[str, Any]:
    """End ``classifier``'s profile: node time per op type (ms, and share of all node time),
    per provider, and the runs' p50 ms; the first ``skip_runs`` runs (warm-up) are left out."""
    import json
    from collections import Counter, defaultdict

    events = json.loads(Path(classifier.session.inference.end_profiling()).read_text())
    runs = [e for e in events if e.get("name") == "model_run"]
    start = runs[skip_runs]["ts"] if len(runs) > skip_runs else 0
    placed: Counter[str] = Counter()
    by_type: defaultdict[str, float] = defaultdict(float)
    for event in events:
        args = event.get("args", {})
        if event.get("cat") == "Node" and "provider" in args and event["ts"] >= start:
            placed[args["provider"]] += 1
            by_type[f"{args.get('op_name', '?')} on {args['provider']}"] += event["dur"] / 1000
    total = sum(by_type.values()) or 1.0
    kept = [e["dur"] / 1000 for e in runs[skip_runs:]]
    return {"model_run_ms_p50": float(np.median(kept)) if kept else None, "runs": len(kept),
            "node_runs_per_provider": dict(placed),
            "node_ms_by_type": {k: v for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])},
            "node_share_by_type": {k: v / total for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])}}
