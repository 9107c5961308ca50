"""zsc.engine: zero-shot classification on onnxruntime, with Hugging Face pipeline parity.

Only numpy, tokenizers and onnxruntime are needed at run time. Heavy modules load
lazily so that ``import zsc.engine`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API: what zsc.export, the CLI's file jobs, the server and users import.
_LAZY = {
    "ZeroShotClassifier": ".classifier",
    "Prediction": ".classifier",
    "LegacyPrediction": ".classifier",
    "PreparedCall": ".classifier",
    "default_model_path": ".classifier",
    "InputError": ".inputs",
    "InputTypeError": ".inputs",
    "DEFAULT_TEMPLATE": ".inputs",
    "PairEncoder": ".encoding",
    "PairSet": ".encoding",
    "Manifest": ".model_dir",
    "GraphVariant": ".model_dir",
    "Feeding": ".defaults",
    "PROVIDER_FEEDING": ".defaults",
    "PRECISION_CHOICES": ".precision",
    "ModelDirectory": ".model_dir",
    "load_model_directory": ".model_dir",
    "write_manifest": ".model_dir",
    "sha256_file": ".model_dir",
    "derive_max_length": ".model_dir",
    "nli_label_ids": ".model_dir",
    "MANIFEST_NAME": ".model_dir",
    "MODEL_FILE": ".model_dir",
    "TOKENIZER_FILE": ".model_dir",
    "TextEmbedder": ".embedding",
    "cpu_flags": ".cpu",
    "has_int8_dot_products": ".cpu",
    "is_arm64": ".cpu",
}

__all__ = [  # the names of _LAZY, spelled out for tools that read __all__
    "ZeroShotClassifier", "Prediction", "LegacyPrediction", "PreparedCall", "default_model_path",
    "InputError", "InputTypeError", "DEFAULT_TEMPLATE", "PairEncoder", "PairSet",
    "Manifest", "GraphVariant", "Feeding", "PROVIDER_FEEDING", "PRECISION_CHOICES", "ModelDirectory", "load_model_directory", "write_manifest", "sha256_file",
    "derive_max_length", "nli_label_ids", "MANIFEST_NAME", "MODEL_FILE", "TOKENIZER_FILE",
    "TextEmbedder", "cpu_flags", "has_int8_dot_products", "is_arm64", "__version__",
]

if TYPE_CHECKING:
    from .classifier import LegacyPrediction, Prediction, PreparedCall, ZeroShotClassifier, default_model_path
    from .cpu import cpu_flags, has_int8_dot_products, is_arm64
    from .defaults import PROVIDER_FEEDING, Feeding
    from .embedding import TextEmbedder
    from .encoding import PairEncoder, PairSet
    from .inputs import DEFAULT_TEMPLATE, InputError, InputTypeError
    from .model_dir import (
        MANIFEST_NAME,
        MODEL_FILE,
        TOKENIZER_FILE,
        GraphVariant,
        Manifest,
        ModelDirectory,
        derive_max_length,
        load_model_directory,
        nli_label_ids,
        sha256_file,
        write_manifest,
    )
    from .precision import PRECISION_CHOICES


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zsc.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name, __name__), name)
