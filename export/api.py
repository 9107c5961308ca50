"""export_model(): an NLI checkpoint -> verified zsc model directory, written atomically (the
steps are pipeline.py's, shared with the embedder's export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zsc.engine.manifest import Manifest

from .directory import checked_output
from .errors import OptionError
from .pipeline import require_export_stack, run_export
from .presets import FP32_TOLERANCE, MAX_OPSET, MIN_OPSET, OPTIMIZE_CHOICES
from .recipes import parse_quantize
from .tasks import NliTask


def export_model(
    source: str,
    output: str | Path,
    *,
    quantize: str = "int8",
    optimize: str = "O2",
    preset: str = "auto",
    force: bool = False,
    allow_no_entailment: bool = False,
    validation_pairs: list[tuple[str, str]] | None = None,
    opset: int | None = None,
    tolerance: float = FP32_TOLERANCE,
    first_token_only: bool = True,
    progress: bool = True,
    manifest_fields: dict[str, Any] | None = None,
) -> Manifest:
    """Export ``source`` (local HF directory or hub id) into ``output`` and return its manifest.

    The fp32 (or fused fp32) graph must match torch within ``tolerance`` or the export fails;
    int8/fp16 figures are measured and recorded in the manifest, not hidden, with a batch
    invariance check (each pair alone against all pairs in one batch). ``quantize="int8"`` is
    per-row int8, calibrated (SmoothQuant) on ``validation_pairs``; ``"int8-dynamic"`` is
    onnxruntime's dynamic int8, whose scores depend on the batch. Several comma-separated
    (``"int8,fp16"``) write one graph each into the directory, the first as model.onnx; the
    runtime picks one per provider. ``"fp16-w8"`` (with ``"int8"``) is an fp16 graph that shares
    the int8 graph's 8-bit weights (the choices: ``recipes.RECIPES``).
    ``first_token_only`` runs the top of the last layer on the pooled token only, where the
    graph pools the first token and the result still matches torch; otherwise it is skipped.
    ``manifest_fields`` set further manifest fields (``zsc tune`` records its ``source`` and ``tuning``).
    """
    recipes = parse_quantize(quantize, "nli")
    check_options(optimize, opset)
    out = checked_output(output, force, source)
    require_export_stack()

    task = NliTask(source, allow_no_entailment, validation_pairs)
    return run_export(task, out, recipes, optimize=optimize, preset=preset, opset=opset, tolerance=tolerance,
                      first_token_only=first_token_only, progress=progress, manifest_fields=manifest_fields)


def check_options(optimize: str, opset: int | None) -> None:
    """The options both exports take, checked before any work."""
    if optimize not in OPTIMIZE_CHOICES:
        raise OptionError(f"optimize must be one of {OPTIMIZE_CHOICES}, got {optimize!r}")
    if opset is not None and not MIN_OPSET <= opset <= MAX_OPSET:
        raise OptionError(f"opset (--opset) must be between {MIN_OPSET} and {MAX_OPSET}, what the exporter writes, got {opset}")
