"""zsc.engine: zero-shot classification on onnxruntime, with Hugging Face pipeline parity.

The public API, a facade: what a user calls. Plumbing (manifest I/O, the pair encoder, CPU
flags, sessions) stays in its module, and zsc.export imports it from there. Only numpy,
tokenizers and onnxruntime (the CPU or the GPU build, chosen at install) are needed at run time; modules load lazily, so that
``import zsc.engine`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "ZeroShotClassifier": ".classifier",
    "Prediction": ".classifier",
    "LegacyPrediction": ".classifier",
    "CallOptions": ".options",
    "LoadOptions": ".load_options",
    "PreparedCall": ".plan",
    "TextEmbedder": ".embedding",
    "InputError": ".inputs",
    "InputTypeError": ".inputs",
    "DEFAULT_TEMPLATE": ".defaults",
    "PROVIDER_FEEDING": ".defaults",
    "Feeding": ".feeding",
    "default_model_path": ".loading",
    "default_embedder_path": ".loading",
}

__all__ = [  # the names of _LAZY, spelled out for tools that read __all__
    "ZeroShotClassifier", "Prediction", "LegacyPrediction", "CallOptions", "LoadOptions", "PreparedCall", "TextEmbedder",
    "InputError", "InputTypeError", "DEFAULT_TEMPLATE", "PROVIDER_FEEDING", "Feeding",
    "default_model_path", "default_embedder_path", "__version__",
]

if TYPE_CHECKING:
    from .classifier import LegacyPrediction, Prediction, ZeroShotClassifier
    from .defaults import DEFAULT_TEMPLATE, PROVIDER_FEEDING
    from .embedding import TextEmbedder
    from .feeding import Feeding
    from .inputs import InputError, InputTypeError
    from .load_options import LoadOptions
    from .loading import default_embedder_path, default_model_path
    from .options import CallOptions
    from .plan import PreparedCall


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zsc.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name, __name__), name)
