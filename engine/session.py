"""The one place an onnxruntime InferenceSession is created: providers, threads, input checks."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import onnxruntime as ort
except ImportError as exc:  # the runtime depends on neither build: say how to choose one
    from .distribution import RUNTIME_MISSING

    raise ImportError(RUNTIME_MISSING) from exc

from .cpu import has_int8_dot_products
from .distribution import MIN_ONNXRUNTIME, MIN_ONNXRUNTIME_TEXT
from .graph_choice import PROVIDERS, GraphChoice, choose_graph
from .int8_twin import Int8Twin
from .manifest import GraphVariant

logger = logging.getLogger("zsc")

KNOWN_INPUTS = {"input_ids", "attention_mask", "token_type_ids"}
# onnxruntime's load-time fusions a provider runs without. On CPU, onnxruntime's fused
# SkipLayerNormalization takes 2-5x the time (AVX2 to AMX) of the Add, Add and LayerNormalization it replaces
# (hidden sizes 384-1024, make bench-layer-norm), so zsc's exports leave those unfused and the
# CPU session must not fuse them back; CUDA keeps the fusion.
UNFUSED_AT_LOAD: dict[str, tuple[str, ...]] = {"cpu": ("SkipLayerNormFusion",), "cuda": ()}


@dataclass(frozen=True)
class GraphSession:
    """An onnxruntime session over one zsc graph, with what was chosen and why."""

    inference: ort.InferenceSession
    input_names: tuple[str, ...]
    output_name: str
    compute_type: str  # "cpu" or "cuda"
    precision: str = "unknown"  # of the graph that runs
    reason: str = ""  # why that graph and provider (see graph_choice.choose_graph)

    @property
    def threads(self) -> int:
        return int(self.inference.get_session_options().intra_op_num_threads)

    def run(self, feeds: dict[str, np.ndarray], io_binding: bool = False) -> np.ndarray:
        """Run one batch and return the graph's output (NLI logits, or an embedder's token
        states), feeding only the inputs the graph declares.

        ``io_binding``: bind the inputs (copied to the device once, at binding) and the output (to
        the host) before the run, onnxruntime's recommended way to feed a non-CPU provider.
        """
        if not io_binding:
            (output,) = self.inference.run([self.output_name], {name: feeds[name] for name in self.input_names})
            return np.asarray(output, dtype=np.float32)
        binding = self.inference.io_binding()
        for name in self.input_names:
            binding.bind_cpu_input(name, np.ascontiguousarray(feeds[name]))
        binding.bind_output(self.output_name, "cpu")
        self.inference.run_with_iobinding(binding)
        return np.asarray(binding.copy_outputs_to_cpu()[0], dtype=np.float32)


class CudaInitFailed(RuntimeError):
    """onnxruntime offered CUDA, but the session came up without it (missing CUDA libraries)."""


def open_session(directory: Path, graphs: Sequence[GraphVariant], provider: str = "auto", precision: str = "auto",
                 threads: int | None = None, num_labels: int | None = None, output_rank: int = 2) -> GraphSession:
    """A session for the graph of ``graphs`` (files in ``directory``) that suits the provider.

    Under provider "auto", a CUDA that onnxruntime lists but cannot start (no CUDA libraries on
    the path) falls back to choosing again for the CPU, with a warning; asked-for "cuda" fails.
    """
    choice = choose_graph(graphs, provider, precision, ort.get_available_providers(), has_int8_dot_products())
    try:
        info = create_session(directory / choice.file, choice, threads, num_labels, output_rank)
    except CudaInitFailed as exc:
        if provider == "cuda":
            raise ValueError(f"{exc}; use provider='cpu' or 'auto'") from exc
        logger.warning("%s; choosing a graph for the CPU instead", exc)
        choice = choose_graph(graphs, provider, precision, [PROVIDERS["cpu"]], has_int8_dot_products())
        info = create_session(directory / choice.file, choice, threads, num_labels, output_rank)
    (logger.warning if choice.slow else logger.info)("zsc runs %s on %s: %s", choice.file, choice.compute, choice.reason)
    return info


def twin_weights(directory: Path, twin: Int8Twin) -> tuple[list[str], list[ort.OrtValue]]:
    """The twin's int8 weights: the portable graph's uint8 bytes with the sign bit flipped (q + 128
    -> q). onnxruntime copies them into the session it creates: they must live until then, not after."""
    path = directory / twin.weights
    try:
        stored = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}, the 8-bit weights of {twin.file}: {exc}") from exc
    names, values = [], []
    for name, offset, shape in twin.tensors:
        size = int(np.prod(shape))
        if offset + size > len(stored):
            raise ValueError(f"{twin.file}: tensor {name} lies past the end of {path} (the model directory is damaged)")
        flipped = (stored[offset:offset + size] ^ np.uint8(0x80)).view(np.int8).reshape(shape)
        names.append(name)
        values.append(ort.OrtValue.ortvalue_from_numpy(flipped))
    return names, values


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def session_options(choice: GraphChoice, threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if choice.graph.weights == "int8":
        # An fp16 graph over 8-bit weights: let constant folding turn each DequantizeLinear of a
        # weight into an fp16 constant at load, instead of dequantising on every run.
        options.add_session_config_entry("session.disable_quant_qdq", "1")
    return options


def runtime_too_old_hint() -> str:
    """What a load failure adds when the installed onnxruntime predates the ops zsc's graphs use."""
    try:
        installed = tuple(int(part) for part in ort.__version__.split(".")[:2])
    except ValueError:  # a version string of another shape: say nothing rather than guess
        return ""
    if installed >= MIN_ONNXRUNTIME:
        return ""
    return (f" (zsc's graphs need onnxruntime {MIN_ONNXRUNTIME_TEXT} or later and this is {ort.__version__}: "
            f"pip install --upgrade 'onnxruntime>={MIN_ONNXRUNTIME_TEXT}', or onnxruntime-gpu on a CUDA host)")


def create_session(model_path: Path, choice: GraphChoice, threads: int | None = None, num_labels: int | None = None,
                   output_rank: int = 2) -> GraphSession:
    """An onnxruntime session for a zsc graph: NLI logits (batch, labels), or token states
    (batch, tokens, hidden) for an embedder (``output_rank=3``)."""
    options = session_options(choice, threads)
    flipped: tuple[list[str], list[ort.OrtValue]] = ([], [])
    if choice.through_twin and choice.graph.twin is not None:
        # The options hold bare pointers to these values until the session has copied them: keep them alive till then.
        flipped = twin_weights(model_path.parent, choice.graph.twin)
        options.add_external_initializers(*flipped)
    try:
        session = ort.InferenceSession(str(model_path), sess_options=options, providers=choice.providers,
                                       disabled_optimizers=list(UNFUSED_AT_LOAD[choice.compute]))
    except Exception as exc:  # onnxruntime raises its own exception types for bad graphs
        raise ValueError(f"onnxruntime cannot load {model_path}: {exc}{runtime_too_old_hint()}") from exc
    del flipped
    if choice.compute == "cuda" and session.get_providers()[0] != PROVIDERS["cuda"]:
        raise CudaInitFailed("onnxruntime's CUDA execution provider failed to initialise (see its log: CUDA or cuDNN "
                             "libraries missing from the library path?)")
    input_names = tuple(i.name for i in session.get_inputs())
    unknown = set(input_names) - KNOWN_INPUTS
    if unknown or "input_ids" not in input_names:
        raise ValueError(
            f"{model_path} takes inputs {list(input_names)}; a zsc model takes input_ids and optionally "
            "attention_mask and token_type_ids. Is this a sequence-classification export?"
        )
    outputs = session.get_outputs()
    shape = outputs[0].shape
    if len(shape) != output_rank or (num_labels is not None and isinstance(shape[1], int) and shape[1] != num_labels):
        expected = f"(batch, {num_labels}) logits" if output_rank == 2 else "(batch, tokens, hidden) token states"
        raise ValueError(f"{model_path} outputs {outputs[0].name} with shape {shape}; expected {expected}")
    return GraphSession(session, input_names, outputs[0].name, choice.compute, choice.graph.precision, choice.reason)
