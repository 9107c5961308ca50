"""What export supports and how it quantises, as data."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from zsc.engine.cpu import cpu_flags, is_arm64

logger = logging.getLogger("zsc")

# model_type -> what its ONNX graph takes. Each entry has a tiny-model test in tests/.
SUPPORTED_ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "bert": ("input_ids", "attention_mask", "token_type_ids"),
    "roberta": ("input_ids", "attention_mask"),
    "deberta-v2": ("input_ids", "attention_mask"),  # token_type_ids only when type_vocab_size > 0
    "bart": ("input_ids", "attention_mask"),
    "xlm-roberta": ("input_ids", "attention_mask"),
    "distilbert": ("input_ids", "attention_mask"),
    "modernbert": ("input_ids", "attention_mask"),
    "electra": ("input_ids", "attention_mask", "token_type_ids"),
    "mpnet": ("input_ids", "attention_mask"),
    "albert": ("input_ids", "attention_mask", "token_type_ids"),
}
# int8: per-row activations, batch-invariant and the most faithful 8-bit (the default).
# int8-dynamic: onnxruntime's dynamic int8, one activation scale per batch tensor: a little faster,
# but a text's scores depend on its batch-mates.
# fp16-w8: fp16 for CUDA built from the int8 graph's 8-bit weights, which it shares (the directory
# grows by the graph's structure only); it comes with int8 in the same export.
QUANTIZE_CHOICES = ("int8", "int8-dynamic", "fp16", "fp16-w8", "none")
INT8_MODES = ("int8", "int8-dynamic")
# What each choice computes in: the precision the manifest records and from_pretrained(precision=) picks.
PRECISION_OF = {"int8": "int8", "int8-dynamic": "int8-dynamic", "fp16": "fp16", "fp16-w8": "fp16", "none": "fp32"}
WEIGHTS_FILE = "weights.bin"  # the 8-bit weights an int8 graph shares with its fp16-w8 graph
# --opset: optimum-onnx drives torch's TorchScript exporter, which writes opsets up to 20; below 14
# the attention and LayerNorm exports fail inside torch (the per-row pass lifts a graph to 21 itself).
MIN_OPSET, MAX_OPSET = 14, 20


def parse_quantize(value: str) -> tuple[str, ...]:
    """``--quantize``: one choice, or several comma-separated (one graph each, the first is model.onnx)."""
    choices = tuple(part.strip() for part in value.split(","))
    unknown = [c for c in choices if c not in QUANTIZE_CHOICES]
    if unknown or not choices:
        raise ValueError(f"quantize must be one of {QUANTIZE_CHOICES}, or several of them comma-separated; got {value!r}")
    precisions = [PRECISION_OF[c] for c in choices]
    if len(set(precisions)) != len(precisions):
        raise ValueError(f"quantize {value!r} asks for two graphs of one precision; a directory holds one graph per precision")
    if "fp16-w8" in choices and "int8" not in choices:
        raise ValueError("fp16-w8 is built from the int8 graph's weights: pass it with int8 (e.g. --quantize int8,fp16-w8)")
    return choices


def graph_file(index: int, precision: str) -> str:
    """model.onnx for the directory's main (first) graph, model_<precision>.onnx for the others."""
    return "model.onnx" if index == 0 else f"model_{precision}.onnx"


def variant_entry(index: int, choice: str) -> dict[str, str]:
    """The manifest's ``variants`` entry for the graph ``choice`` wrote as the index-th graph (not the first)."""
    precision = PRECISION_OF[choice]
    return {"precision": precision, "file": graph_file(index, precision)} | ({"weights": "int8"} if choice == "fp16-w8" else {})
OPTIMIZE_CHOICES = ("O1", "O2", "none")
FP32_TOLERANCE = 1e-4


@dataclass(frozen=True)
class QuantPreset:
    """int8 settings for one instruction set (weights 8-bit per channel, activations uint8).

    AVX2 without VNNI multiplies u8 x s8 byte pairs into a saturating int16 (vpmaddubsw).
    Dynamic int8 avoids that with 7-bit weights (reduce_range); per-row int8 stores its 8-bit
    weights as uint8 instead, which MLAS multiplies in 16 bits (no saturation, all 8 bits kept).
    """

    name: str
    reduce_range: bool  # int8-dynamic: 7-bit weights
    per_row_weights: str  # int8: "uint8" (safe on every CPU) or "int8" (VNNI / arm64 only)
    per_channel: bool = True


QUANT_PRESETS = {
    "avx512_vnni": QuantPreset("avx512_vnni", reduce_range=False, per_row_weights="int8"),
    "avx2": QuantPreset("avx2", reduce_range=True, per_row_weights="uint8"),
    "arm64": QuantPreset("arm64", reduce_range=False, per_row_weights="int8"),
}


def detect_preset() -> str:
    """The portable preset of this CPU's architecture ("auto"): a model directory exported on one
    machine is often run on another. On x86 that is avx2, whose uint8 weights every x86 CPU
    multiplies correctly and whose per-row int8 graph comes with a twin that CPUs with VNNI run
    at their full speed (export/int8_view.py); avx512_vnni (int8 weights, VNNI hosts only) is for
    asking by name."""
    if is_arm64():
        return "arm64"
    if "avx2" not in cpu_flags():
        logger.warning("CPU reports no AVX2; using the avx2 int8 preset anyway")
    return "avx2"


def resolve_preset(name: str) -> QuantPreset:
    if name == "auto":
        name = detect_preset()
    if name not in QUANT_PRESETS:
        raise ValueError(f"unknown quantisation preset {name!r}; choose auto or one of {sorted(QUANT_PRESETS)}")
    return QUANT_PRESETS[name]
