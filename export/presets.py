"""What export supports and how it quantises, as data."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from zsc.engine import cpu_flags, has_int8_dot_products, is_arm64

logger = logging.getLogger("zsc")

# model_type -> what its ONNX graph takes. Each entry has a tiny-model test in tests/.
SUPPORTED_ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "bert": ("input_ids", "attention_mask", "token_type_ids"),
    "roberta": ("input_ids", "attention_mask"),
    "deberta-v2": ("input_ids", "attention_mask"),  # token_type_ids only when type_vocab_size > 0
    "bart": ("input_ids", "attention_mask"),
}
# int8: per-row activations, batch-invariant and the most faithful 8-bit (the default).
# int8-dynamic: onnxruntime's dynamic int8, one activation scale per batch tensor: a little faster,
# but a text's scores depend on its batch-mates.
QUANTIZE_CHOICES = ("int8", "int8-dynamic", "fp16", "none")
INT8_MODES = ("int8", "int8-dynamic")
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
    """Pick the preset from this CPU's instruction set."""
    if is_arm64():
        return "arm64"
    if has_int8_dot_products():
        return "avx512_vnni"
    if "avx2" not in cpu_flags():
        logger.warning("CPU reports no AVX2; using the avx2 int8 preset anyway")
    return "avx2"


def resolve_preset(name: str) -> QuantPreset:
    if name == "auto":
        name = detect_preset()
    if name not in QUANT_PRESETS:
        raise ValueError(f"unknown quantisation preset {name!r}; choose auto or one of {sorted(QUANT_PRESETS)}")
    return QUANT_PRESETS[name]
