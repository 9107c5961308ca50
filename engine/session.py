"""The one place an onnxruntime InferenceSession is created: providers, threads, input checks."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

logger = logging.getLogger("zsc")

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
KNOWN_INPUTS = {"input_ids", "attention_mask", "token_type_ids"}


@dataclass(frozen=True)
class SessionInfo:
    session: ort.InferenceSession
    input_names: tuple[str, ...]
    output_name: str
    compute_type: str  # "cpu" or "cuda"


# Graphs whose quantisation ops onnxruntime runs only (or only fast) on the CPU: measured 22x
# slower when "auto" sent the int8 default to CUDA on an H200.
CPU_ONLY_PRECISIONS = ("int8", "int8-dynamic")


def resolve_providers(provider: str, precision: str = "unknown") -> list[str]:
    """Provider list for onnxruntime: 'auto' prefers CUDA for graphs that suit it and falls back
    to CPU with a log line saying why."""
    available = ort.get_available_providers()
    if provider == "auto":
        if PROVIDERS["cuda"] in available and precision in CPU_ONLY_PRECISIONS:
            logger.info("CUDA is available, but this %s graph runs fastest on the CPU; using CPU "
                        "(export with --quantize fp16 for the GPU)", precision)
            return [PROVIDERS["cpu"]]
        if PROVIDERS["cuda"] in available:
            return [PROVIDERS["cuda"], PROVIDERS["cpu"]]
        logger.info("CUDA execution provider not available; using CPU")
        return [PROVIDERS["cpu"]]
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be 'auto', 'cpu' or 'cuda', got {provider!r}")
    if provider == "cuda" and precision == "int8":
        # Measured on an H100 (onnxruntime-gpu 1.31): the session loads, then the first call fails in
        # QuantizeLinear ("Unsupported quantization type": no blocked quantisation on CUDA).
        raise ValueError(
            "this per-row int8 graph runs on the CPU only (onnxruntime's CUDA QuantizeLinear lacks the blocked "
            "quantisation it uses); use provider='cpu' or 'auto', or export the model with --quantize fp16 for CUDA"
        )
    if PROVIDERS[provider] not in available:
        raise ValueError(
            f"provider {provider!r} was asked for but onnxruntime offers only {available}; "
            "install zsc[gpu] (onnxruntime-gpu) with a working CUDA setup, or use provider='cpu'"
        )
    return [PROVIDERS[provider]] + ([PROVIDERS["cpu"]] if provider != "cpu" else [])


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def create_session(model_path: Path, provider: str = "auto", threads: int | None = None, num_labels: int | None = None,
                   precision: str = "unknown", output_rank: int = 2) -> SessionInfo:
    """An onnxruntime session for a zsc graph: NLI logits (batch, labels), or token states
    (batch, tokens, hidden) for an embedder (``output_rank=3``)."""
    providers = resolve_providers(provider, precision)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(model_path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for bad graphs
        raise ValueError(f"onnxruntime cannot load {model_path}: {exc}") from exc
    if provider == "cuda" and PROVIDERS["cuda"] not in session.get_providers():
        raise ValueError("CUDA execution provider failed to initialise (see onnxruntime's log); use provider='cpu'")
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
    compute = "cuda" if session.get_providers()[0] == PROVIDERS["cuda"] else "cpu"
    return SessionInfo(session, input_names, outputs[0].name, compute)


def run_logits(info: SessionInfo, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """Run one batch, feeding only the inputs the graph declares."""
    wanted = {name: feeds[name] for name in info.input_names}
    (logits,) = info.session.run([info.output_name], wanted)
    return np.asarray(logits, dtype=np.float32)
