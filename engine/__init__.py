"""zsc.engine: zero-shot classification on onnxruntime, with Hugging Face pipeline parity.

Only numpy, tokenizers and onnxruntime are needed at run time. Heavy modules load
lazily so that ``import zsc.engine`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ZeroShotClassifier", "ModelDirectory", "load_model_directory", "__version__"]

if TYPE_CHECKING:
    from .classifier import ZeroShotClassifier
    from .model_dir import ModelDirectory, load_model_directory

_LAZY = {
    "ZeroShotClassifier": ".classifier",
    "ModelDirectory": ".model_dir",
    "load_model_directory": ".model_dir",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zsc.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name, __name__), name)
