"""Int8Twin: the manifest's description of a per-row int8 graph's twin for CPUs with 8-bit dot
products (manifest key ``int8_view``, file ``model_int8_dot.onnx``: the names format 1 wrote)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model_files import MANIFEST_NAME


@dataclass(frozen=True)
class Int8Twin:
    """A per-row int8 graph's twin for CPUs with 8-bit dot products (VNNI, arm64).

    The portable graph stores its quantised weights as uint8 with zero point 128, which every
    x86 CPU multiplies without int16 saturation; there, onnxruntime's u8 x s8 kernel is faster.
    The twin declares the same bytes int8 with zero point 0: flipping each byte's sign bit turns
    q + 128 into q, so the integers, and the scores, are the same. Its flipped tensors point at a
    file that does not exist: the runtime supplies them at load (read from ``weights``, flipped),
    and loading the twin without zsc fails instead of reading uint8 bytes as int8."""

    file: str
    weights: str
    tensors: tuple[tuple[str, int, tuple[int, ...]], ...]  # (initializer, byte offset in weights, shape)

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> Int8Twin:
        try:
            tensors = tuple((str(name), int(offset), tuple(int(d) for d in shape)) for name, (offset, shape) in entry["tensors"].items())
            twin = cls(str(entry["file"]), str(entry["weights"]), tensors)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{MANIFEST_NAME}: int8_view needs file, weights and tensors {{name: [offset, shape]}} ({exc})") from exc
        if not tensors or any(offset < 0 or any(d < 0 for d in shape) for _, offset, shape in tensors):
            raise ValueError(f"{MANIFEST_NAME}: int8_view lists no tensors, or a negative offset or dimension")
        return twin
