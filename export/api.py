"""export_model(): checkpoint -> verified zsc model directory, written atomically."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from zsc.engine import TOKENIZER_FILE, Manifest, __version__

from .directory import checked_output, finalise_manifest, new_staging, replace_directory
from .presets import (
    FP32_TOLERANCE,
    INT8_MODES,
    OPTIMIZE_CHOICES,
    PRECISION_OF,
    WEIGHTS_FILE,
    graph_file,
    parse_quantize,
    resolve_preset,
    variant_entry,
)

if TYPE_CHECKING:
    from .validate import ParityReport

logger = logging.getLogger("zsc")


def require_export_stack() -> None:
    """Fail with an install hint when the export extra (torch, transformers, optimum) is missing."""
    try:
        import optimum.exporters.onnx  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"zsc export needs the export extra: pip install 'zsc[export]' ({exc})") from exc


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
) -> Manifest:
    """Export ``source`` (local HF directory or hub id) into ``output`` and return its manifest.

    The fp32 (or fused fp32) graph must match torch within ``tolerance`` or the export fails;
    int8/fp16 figures are measured and recorded in the manifest, not hidden, with a batch
    invariance check (each pair alone against all pairs in one batch). ``quantize="int8"`` is
    per-row int8, calibrated (SmoothQuant) on ``validation_pairs``; ``"int8-dynamic"`` is
    onnxruntime's dynamic int8, whose scores depend on the batch. Several comma-separated
    (``"int8,fp16"``) write one graph each into the directory, the first as model.onnx; the
    runtime picks one per provider. ``"fp16-w8"`` (with ``"int8"``) is an fp16 graph that shares
    the int8 graph's 8-bit weights.
    ``first_token_only`` runs the top of the last layer on the pooled token only, where the
    graph pools the first token and the result still matches torch; otherwise it is skipped.
    """
    choices = parse_quantize(quantize)
    if optimize not in OPTIMIZE_CHOICES:
        raise ValueError(f"optimize must be one of {OPTIMIZE_CHOICES}, got {optimize!r}")
    quant_preset = resolve_preset(preset) if set(choices) & {*INT8_MODES, "fp16-w8"} else None
    out = checked_output(output, force)
    require_export_stack()
    from tqdm.auto import tqdm

    from .convert import export_fp32
    from .optimize import optimize_graph
    from .quantize import share_weights
    from .source import inspect_source
    from .validate import BUILTIN_PAIRS, batch_invariance, compare, onnx_logits, torch_logits

    model = inspect_source(source, allow_no_entailment)
    pairs = list(validation_pairs or BUILTIN_PAIRS)
    staging = new_staging(out)
    steps = tqdm(total=5, desc=f"export {Path(source).name}", disable=not progress, unit="step")
    try:
        work = staging / "work"
        graph = export_fp32(model, work / "fp32", opset)
        steps.update()
        if optimize != "none":
            graph = optimize_graph(work / "fp32", work / "optimized", optimize)
        steps.update()

        model.tokenizer.backend_tokenizer.save(str(staging / TOKENIZER_FILE))
        model.config.save_pretrained(staging)
        manifest = Manifest(
            entailment_id=model.entailment_id,
            contradiction_id=model.contradiction_id,
            max_length=model.max_length,
            pad_token_id=model.pad_token_id,
            id2label={int(k): str(v) for k, v in model.config.id2label.items()},
            model_type=model.config.model_type,
            precision=PRECISION_OF[choices[0]],
            optimization=None if optimize == "none" else optimize,
            quantization_preset=quant_preset.name if quant_preset else None,
            source=source,
            zsc_version=__version__,
            variants=[variant_entry(i, c) for i, c in enumerate(choices) if i > 0],
        )

        reference = torch_logits(model, pairs)
        fp32_report = compare(reference, onnx_logits(graph, staging / TOKENIZER_FILE, manifest, pairs))
        if fp32_report.max_abs_logit_diff > tolerance:
            raise ValueError(
                f"exported fp32 graph differs from torch by {fp32_report.max_abs_logit_diff:.3g} "
                f"(> {tolerance:g}) on {fp32_report.pairs} pairs; the export is wrong"
            )
        if first_token_only:
            graph, fp32_report, pruned = _prune_if_exact(graph, work / "pruned.onnx", reference, fp32_report, staging, manifest, pairs, tolerance)
            manifest = replace(manifest, first_token_only=pruned)
        steps.update()

        smoothing = None
        if quant_preset is not None and set(choices) & {"int8", "fp16-w8"}:
            from .calibrate import smoothing_factors

            smoothing = smoothing_factors(graph, staging / TOKENIZER_FILE, manifest, pairs)
        paths = {c: staging / graph_file(i, PRECISION_OF[c]) for i, c in enumerate(choices)}
        for choice, path in paths.items():
            _write_graph(choice, graph, path, quant_preset, smoothing)
        if "fp16-w8" in paths:
            shared = share_weights(paths["int8"], [paths["fp16-w8"]], WEIGHTS_FILE)
            logger.info("fp16-w8 shares %.1f MB of 8-bit weights with the int8 graph", shared / 1e6)
        steps.update()

        parity = {"fp32": fp32_report.as_dict()}
        for choice, path in paths.items():
            precision = PRECISION_OF[choice]
            checked = replace(manifest, precision=precision)
            if precision != "fp32":
                parity[precision] = compare(reference, onnx_logits(path, staging / TOKENIZER_FILE, checked, pairs)).as_dict()
            parity[precision]["batch_invariance_max_abs_logit_diff"] = batch_invariance(path, staging / TOKENIZER_FILE, checked, pairs)
        shutil.rmtree(work)
        manifest = finalise_manifest(staging, manifest, parity)
        replace_directory(staging, out)
        steps.update()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        steps.close()
    logger.info("exported %s to %s (%s)", source, out, json.dumps(manifest.parity))
    return manifest


def _write_graph(choice: str, graph: Path, out_path: Path, preset, smoothing: dict | None) -> None:
    """One graph of the directory from the checked fp32 ``graph``, as ``choice`` says."""
    from .quantize import convert_fp16, derive_fp16_from_int8, quantize_int8_dynamic, quantize_int8_per_row

    if choice == "int8":
        quantize_int8_per_row(graph, out_path, preset, smoothing)
    elif choice == "int8-dynamic":
        quantize_int8_dynamic(graph, out_path, preset)
    elif choice == "fp16":
        convert_fp16(graph, out_path)
    elif choice == "fp16-w8":
        derive_fp16_from_int8(graph, out_path, preset, smoothing)
    else:
        shutil.copyfile(graph, out_path)


def _prune_if_exact(graph: Path, pruned_path: Path, reference, report, staging: Path, manifest: Manifest,
                    pairs: list[tuple[str, str]], tolerance: float) -> tuple[Path, ParityReport, bool]:
    """The pruned graph, its parity report and True; or the given graph, its report and False
    when pruning does not apply or would change the logits."""
    from .prune import prune_to_first_token
    from .validate import compare, onnx_logits

    try:
        if not prune_to_first_token(graph, pruned_path):
            logger.info("first-token pruning does not apply to this graph (it does not pool token 0)")
            return graph, report, False
        pruned_report = compare(reference, onnx_logits(pruned_path, staging / TOKENIZER_FILE, manifest, pairs))
    except Exception as exc:  # an op the pass misjudged, a graph too big to rewrite: keep the full graph
        logger.warning("first-token pruning skipped: %s", exc)
        return graph, report, False
    if pruned_report.max_abs_logit_diff > tolerance:
        logger.warning("first-token pruning skipped: logits moved by %.3g", pruned_report.max_abs_logit_diff)
        return graph, report, False
    return pruned_path, pruned_report, True
