"""zsc.export: turn a Hugging Face NLI checkpoint into a zsc model directory (needs `pip install 'zsc-onnx[export]'`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["export_model", "SUPPORTED_ARCHITECTURES", "QUANTIZE_CHOICES", "OPTIMIZE_CHOICES"]

if TYPE_CHECKING:
    from .api import export_model
    from .presets import OPTIMIZE_CHOICES, SUPPORTED_ARCHITECTURES
    from .recipes import QUANTIZE_CHOICES


def __getattr__(name: str) -> Any:
    if name == "export_model":
        from .api import export_model

        return export_model
    if name in {"SUPPORTED_ARCHITECTURES", "OPTIMIZE_CHOICES"}:
        from . import presets

        return getattr(presets, name)
    if name == "QUANTIZE_CHOICES":
        from .recipes import QUANTIZE_CHOICES

        return QUANTIZE_CHOICES
    raise AttributeError(f"module 'zsc.export' has no attribute {name!r}")
