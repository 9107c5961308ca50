"""Export precisions as data: each ``--quantize`` choice's recipe, read by the export pipeline (NLI
and embedding alike), the manifest's graph entries and the command line's help.

A recipe names the precision it writes (one of the engine's ``manifest.PRECISIONS``, what
``from_pretrained(precision=)`` picks), the function that builds its graph from the checked fp32
one, and what it needs: the int8 preset, SmoothQuant factors where the task calibrates, another
recipe's 8-bit weights. Adding a precision is one ``Recipe`` in ``RECIPES`` plus its builder
(README, "Development").
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import OptionError
from .presets import QuantPreset
from .quantize import convert_fp16, derive_fp16_from_int8, quantize_int8_dynamic, quantize_int8_per_row

WEIGHTS_FILE = "weights.bin"  # the 8-bit weights an int8 graph shares with its fp16-w8 graph


@dataclass(frozen=True)
class GraphBuild:
    """What a builder reads and writes: the checked fp32 ``source`` graph, the ``out`` path, the int8
    preset (for recipes that use one) and the SmoothQuant factors (where the task calibrates)."""

    source: Path
    out: Path
    preset: QuantPreset | None
    smoothing: dict[str, Any] | None


# Writes ``build.out``; returns the per-row pass's counts where it ran one (the manifest's note).
Builder = Callable[[GraphBuild], "dict[str, int] | None"]


@dataclass(frozen=True)
class Recipe:
    """One ``--quantize`` choice."""

    choice: str
    precision: str
    build: Builder
    help: str
    uses_preset: bool = False  # needs an int8 preset (QuantPreset)
    calibrated: bool = False  # reads SmoothQuant factors when the task computes them
    shares_weights_of: str | None = None  # built from that recipe's 8-bit weights, in the same export
    tasks: tuple[str, ...] = ("nli", "embedding")


def _per_row(build: GraphBuild) -> dict[str, int] | None:

    assert build.preset is not None
    return quantize_int8_per_row(build.source, build.out, build.preset, build.smoothing)


def _dynamic(build: GraphBuild) -> None:

    assert build.preset is not None
    quantize_int8_dynamic(build.source, build.out, build.preset)


def _fp16(build: GraphBuild) -> None:

    convert_fp16(build.source, build.out)


def _fp16_over_int8(build: GraphBuild) -> None:

    assert build.preset is not None
    derive_fp16_from_int8(build.source, build.out, build.preset, build.smoothing)


def _fp32(build: GraphBuild) -> None:
    shutil.copyfile(build.source, build.out)


RECIPES: dict[str, Recipe] = {recipe.choice: recipe for recipe in (
    Recipe("int8", "int8", _per_row, "per-row int8, batch-invariant (the default)", uses_preset=True, calibrated=True),
    Recipe("int8-dynamic", "int8-dynamic", _dynamic, "onnxruntime's dynamic int8: a little faster, scores depend on the batch",
           uses_preset=True, tasks=("nli",)),
    Recipe("fp16", "fp16", _fp16, "fp16 for CUDA", tasks=("nli",)),
    Recipe("fp16-w8", "fp16", _fp16_over_int8, "fp16 for CUDA over the int8 graph's 8-bit weights (with int8)",
           uses_preset=True, calibrated=True, shares_weights_of="int8"),
    Recipe("none", "fp32", _fp32, "the fp32 graph"),
)}
QUANTIZE_CHOICES = tuple(RECIPES)


def parse_quantize(value: str, task: str = "nli") -> tuple[Recipe, ...]:
    """``--quantize``: one choice, or several comma-separated (one graph each, the first is model.onnx)."""
    choices = tuple(part.strip() for part in value.split(","))
    allowed = [name for name, recipe in RECIPES.items() if task in recipe.tasks]
    unknown = [c for c in choices if c not in RECIPES]
    if unknown or not choices:
        raise OptionError(f"quantize must be one of {QUANTIZE_CHOICES}, or several of them comma-separated; got {value!r}")
    other_task = [c for c in choices if c not in allowed]
    if other_task:
        raise OptionError(f"an {'embedder' if task == 'embedding' else task + ' model'} exports with quantize in {tuple(allowed)}, "
                          f"got {value!r}")
    recipes = tuple(RECIPES[c] for c in choices)
    precisions = [r.precision for r in recipes]
    if len(set(precisions)) != len(precisions):
        raise OptionError(f"quantize {value!r} asks for two graphs of one precision; a directory holds one graph per precision")
    for recipe in recipes:
        if recipe.shares_weights_of is not None and recipe.shares_weights_of not in choices:
            raise OptionError(f"{recipe.choice} is built from the {recipe.shares_weights_of} graph's weights: pass it with "
                              f"{recipe.shares_weights_of} (e.g. --quantize {recipe.shares_weights_of},{recipe.choice})")
    return recipes


def graph_file(index: int, precision: str) -> str:
    """model.onnx for the directory's main (first) graph, model_<precision>.onnx for the others."""
    return "model.onnx" if index == 0 else f"model_{precision}.onnx"


def variant_entry(index: int, recipe: Recipe) -> dict[str, str]:
    """The manifest's ``variants`` entry for the graph ``recipe`` wrote as the index-th graph (not the first)."""
    entry = {"precision": recipe.precision, "file": graph_file(index, recipe.precision)}
    return entry | ({"weights": "int8"} if recipe.shares_weights_of == "int8" else {})
