"""What this CPU can do, for int8 graphs whose weights assume an instruction set."""

from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

# Instruction sets whose u8 x s8 dot products accumulate in 32 bits (no int16 saturation).
_VNNI_FLAGS = {"avx512_vnni", "avx512vnni", "avx_vnni"}


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The flags /proc/cpuinfo lists for this CPU (empty where there is no /proc)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return frozenset()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def is_arm64() -> bool:
    return platform.machine().lower() in {"arm64", "aarch64"}


def has_int8_dot_products() -> bool:
    """True where u8 x s8 int8 GEMM cannot saturate: VNNI on x86, or arm64 (sdot/udot)."""
    return is_arm64() or bool(cpu_flags() & _VNNI_FLAGS)


def flags_summary() -> str:
    """The flags that decide int8 speed and correctness, for benchmark records."""
    if is_arm64():
        return "arm64"
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
    return " ".join(f for f in wanted if f in cpu_flags()) or "no avx2"
