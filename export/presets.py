"""What export supports (architectures, opsets, optimisation levels) and the int8 presets per
instruction set, as data; the precisions themselves are recipes.py's."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from zsc.engine.cpu import cpu_flags, is_arm64

from .errors import OptionError

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
# --opset: optimum-onnx drives torch's TorchScript exporter, which writes opsets up to 20; below 14
# the attention and LayerNorm exports fail inside torch (the per-row pass lifts a graph to 21 itself).
MIN_OPSET, MAX_OPSET = 14, 20
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
    at their full speed (export/int8_twin.py); avx512_vnni (int8 weights, VNNI hosts only) is for
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
        raise OptionError(f"unknown quantisation preset {name!r}; choose auto or one of {sorted(QUANT_PRESETS)}")
    return QUANT_PRESETS[name]
