"""What export supports and how it quantises, as data."""

from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("zsc")

# model_type -> what its ONNX graph takes. Each entry has a tiny-model test in tests/.
SUPPORTED_ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "bert": ("input_ids", "attention_mask", "token_type_ids"),
    "roberta": ("input_ids", "attention_mask"),
    "deberta-v2": ("input_ids", "attention_mask"),  # token_type_ids only when type_vocab_size > 0
    "bart": ("input_ids", "attention_mask"),
}
QUANTIZE_CHOICES = ("int8", "fp16", "none")
OPTIMIZE_CHOICES = ("O1", "O2", "none")
FP32_TOLERANCE = 1e-4


@dataclass(frozen=True)
class QuantPreset:
    """Dynamic int8 settings for one instruction set (weights int8 per channel, activations uint8)."""

    name: str
    reduce_range: bool  # 7-bit weights avoid int16 saturation in AVX2's u8s8 multiply (no VNNI)
    per_channel: bool = True


QUANT_PRESETS = {
    "avx512_vnni": QuantPreset("avx512_vnni", reduce_range=False),
    "avx2": QuantPreset("avx2", reduce_range=True),
    "arm64": QuantPreset("arm64", reduce_range=False),
}


def detect_preset() -> str:
    """Pick the preset from this CPU's instruction set."""
    machine = platform.machine().lower()
    if machine in {"arm64", "aarch64"}:
        return "arm64"
    flags = _cpu_flags()
    if "avx512_vnni" in flags or "avx512vnni" in flags:
        return "avx512_vnni"
    if "avx2" not in flags:
        logger.warning("CPU reports no AVX2; using the avx2 int8 preset (reduce_range) anyway")
    return "avx2"


def _cpu_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def resolve_preset(name: str) -> QuantPreset:
    if name == "auto":
        name = detect_preset()
    if name not in QUANT_PRESETS:
        raise ValueError(f"unknown quantisation preset {name!r}; choose auto or one of {sorted(QUANT_PRESETS)}")
    return QUANT_PRESETS[name]
