"""export_model(): checkpoint -> verified zsc model directory, written atomically."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zsc.engine import __version__
from zsc.engine.distribution import install_hint
from zsc.engine.model_dir import TOKENIZER_FILE, Manifest

from .directory import checked_output, new_staging, replace_directory
from .int8_view import finalise_checking_twin, twin_difference, twin_for
from .per_row import MIN_GATHER_ELEMENTS
from .presets import (
    FP32_TOLERANCE,
    INT8_MODES,
    MAX_OPSET,
    MIN_OPSET,
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
        raise ImportError(f"zsc export needs the export extra: {install_hint('export')} ({exc})") from exc


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
    the int8 graph's 8-bit weights.
    ``first_token_only`` runs the top of the last layer on the pooled token only, where the
    graph pools the first token and the result still matches torch; otherwise it is skipped.
    ``manifest_fields`` set further manifest fields (``zsc tune`` records its ``source`` and ``tuning``).
    """
    choices = parse_quantize(quantize)
    if optimize not in OPTIMIZE_CHOICES:
        raise ValueError(f"optimize must be one of {OPTIMIZE_CHOICES}, got {optimize!r}")
    if opset is not None and not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset (--opset) must be between {MIN_OPSET} and {MAX_OPSET}, what the exporter writes, got {opset}")
    quant_preset = resolve_preset(preset) if set(choices) & {*INT8_MODES, "fp16-w8"} else None
    out = checked_output(output, force, source)
    require_export_stack()
    from tqdm.auto import tqdm

    from .convert import export_fp32
    from .quantize import share_weights
    from .source import inspect_source
    from .validate import BUILTIN_PAIRS, batch_invariance, compare, onnx_logits, torch_logits

    model = inspect_source(source, allow_no_entailment)
    pairs = list(validation_pairs or BUILTIN_PAIRS)
    staging = new_staging(out)
    steps = tqdm(total=5, desc=f"export {Path(source).name}", disable=not progress, unit="step")
    try:
        work = staging / "work"
        export_fp32(model, work / "fp32", opset)
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
            quantization_preset=quant_preset.name if quant_preset else None,
            source=source,
            zsc_version=__version__,
            variants=[variant_entry(i, c) for i, c in enumerate(choices) if i > 0],
        )
        # What each transformation did to this architecture's graph, or why it was skipped.
        transformations: dict[str, Any] = {}
        reference = torch_logits(model, pairs)
        check = partial(_checked_graph, reference, staging / TOKENIZER_FILE, manifest, pairs, tolerance)
        graph, fp32_report, transformations["optimize"] = _optimized_if_exact(work, optimize, check, model.config.model_type)
        steps.update()
        if first_token_only:
            graph, fp32_report, transformations["first_token_only"] = _prune_if_exact(graph, work / "pruned.onnx", fp32_report, check)
        else:
            transformations["first_token_only"] = {"applied": False, "reason": "--all-tokens"}
        manifest = replace(manifest, optimization=optimize if transformations["optimize"]["applied"] else None,
                           first_token_only=transformations["first_token_only"]["applied"])
        steps.update()

        smoothing = None
        if quant_preset is not None and set(choices) & {"int8", "fp16-w8"}:
            from .calibrate import smoothing_factors

            smoothing = smoothing_factors(graph, staging / TOKENIZER_FILE, manifest, pairs)
        paths = {c: staging / graph_file(i, PRECISION_OF[c]) for i, c in enumerate(choices)}
        for choice, path in paths.items():
            counts = _write_graph(choice, graph, path, quant_preset, smoothing)
            if counts is not None:
                transformations[choice] = per_row_note(counts, smoothing)
        if "fp16-w8" in paths:
            shared = share_weights(paths["int8"], [paths["fp16-w8"]], WEIGHTS_FILE)
            logger.info("fp16-w8 shares %.1f MB of 8-bit weights with the int8 graph", shared / 1e6)
        int8_view = twin_for(staging, paths["int8"].name, quant_preset, "fp16-w8" in paths) if "int8" in paths else {}
        manifest = replace(manifest, transformations=transformations, int8_view=int8_view, **(manifest_fields or {}))
        steps.update()

        parity: dict[str, dict[str, Any]] = {"fp32": fp32_report.as_dict()}
        logits_of = {}
        for choice, path in paths.items():
            precision = PRECISION_OF[choice]
            checked = replace(manifest, precision=precision)
            if precision != "fp32":
                logits_of[precision] = onnx_logits(path, staging / TOKENIZER_FILE, checked, pairs)
                parity[precision] = compare(reference, logits_of[precision]).as_dict()
            parity[precision]["batch_invariance_max_abs_logit_diff"] = batch_invariance(path, staging / TOKENIZER_FILE, checked, pairs)
        shutil.rmtree(work)
        manifest = finalise_checking_twin(staging, manifest, parity,
                                          lambda: twin_difference(partial(_runtime_logits, staging, pairs), logits_of["int8"]))
        replace_directory(staging, out)
        steps.update()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        steps.close()
    logger.info("exported %s to %s (%s)", source, out, json.dumps(manifest.parity))
    return manifest


def _runtime_logits(directory: Path, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, str]:
    """The int8 logits of ``pairs`` from a finished directory as the runtime loads it, and why it chose that graph."""
    from zsc.engine import ZeroShotClassifier

    classifier = ZeroShotClassifier.from_pretrained(directory, provider="cpu", precision="int8", verify=False)
    return classifier.nli_logits([p for p, _ in pairs], [h for _, h in pairs]), classifier.session.reason


def _write_graph(choice: str, graph: Path, out_path: Path, preset, smoothing: dict | None) -> dict[str, int] | None:
    """One graph of the directory from the checked fp32 ``graph``, as ``choice`` says; the per-row
    pass's counts for the 8-bit graphs built by it."""
    from .quantize import convert_fp16, derive_fp16_from_int8, quantize_int8_dynamic, quantize_int8_per_row

    if choice == "int8":
        return quantize_int8_per_row(graph, out_path, preset, smoothing)
    if choice == "int8-dynamic":
        quantize_int8_dynamic(graph, out_path, preset)
    elif choice == "fp16":
        convert_fp16(graph, out_path)
    elif choice == "fp16-w8":  # the int8 graph's weights: its note covers both
        derive_fp16_from_int8(graph, out_path, preset, smoothing)
    else:
        shutil.copyfile(graph, out_path)
    return None


def per_row_note(counts: dict[str, int], smoothing: dict | None) -> dict[str, Any]:
    """The manifest's record of the per-row pass: what it quantised, what it left in fp32, and why."""
    note: dict[str, Any] = dict(counts) | {"smoothquant_activations": len(smoothing or {})}
    skipped = []
    if counts.get("matmul_fp32"):
        skipped.append(f"{counts['matmul_fp32']} MatMuls multiply two activations (attention scores and context of an "
                       "unfused attention) and stay fp32: the pass quantises MatMuls with a constant weight")
    if counts.get("attention_fp32"):
        skipped.append(f"{counts['attention_fp32']} fused Attention ops have attributes or inputs MultiHeadAttention "
                       "does not reproduce and stay fp32")
    if not counts.get("gather"):
        skipped.append(f"no embedding table of {MIN_GATHER_ELEMENTS} elements or more: embeddings stay fp32")
    note["skipped"] = skipped
    for reason in skipped:
        logger.info("per-row int8: %s", reason)
    return note


def _checked_graph(reference, tokenizer: Path, manifest: Manifest, pairs: list[tuple[str, str]], tolerance: float,
                   graph: Path) -> tuple[ParityReport, str | None]:
    """The graph's agreement with torch, and why it is not good enough (None when it is)."""
    from .validate import compare, onnx_logits

    report = compare(reference, onnx_logits(graph, tokenizer, manifest, pairs))
    if report.max_abs_logit_diff > tolerance:
        return report, f"logits differ from torch by {report.max_abs_logit_diff:.3g} (> {tolerance:g}) on {report.pairs} pairs"
    return report, None


def _optimized_if_exact(work: Path, level: str, check: Callable[[Path], tuple[ParityReport, str | None]],
                        model_type: str | None = None) -> tuple[Path, ParityReport, dict[str, Any]]:
    """The fused graph when onnxruntime's optimiser handles this architecture and the result
    still matches torch; else the plain export (which must match, or the export is wrong)."""
    from .optimize import fused_ops, optimize_graph

    plain = work / "fp32" / "model.onnx"
    reason = "--optimize none"
    if level != "none":
        try:
            optimized = optimize_graph(work / "fp32", work / "optimized", level, model_type)
            report, problem = check(optimized)
            if problem is None:
                return optimized, report, {"applied": True, "level": level, "fused_ops": fused_ops(optimized)}
            reason = f"the {level} graph's {problem}"
        except Exception as exc:  # the optimiser does not know this architecture, or broke on it
            reason = f"the {level} optimiser failed: {type(exc).__name__}: {exc}"
        logger.warning("graph optimisation skipped, the plain fp32 graph is kept: %s", reason)
    report, problem = check(plain)
    if problem is not None:
        raise ValueError(f"the exported fp32 graph's {problem}; the export is wrong")
    return plain, report, {"applied": False, "level": level, "reason": reason}


def _prune_if_exact(graph: Path, pruned_path: Path, report: ParityReport, check: Callable[[Path], tuple[ParityReport, str | None]]
                    ) -> tuple[Path, ParityReport, dict[str, Any]]:
    """The pruned graph and its parity report, or the given graph and report when pruning does
    not apply or would change the logits; with the manifest's note of which and why."""
    from .prune import prune_to_first_token

    try:
        if not prune_to_first_token(graph, pruned_path):
            reason = "the graph does not pool token 0 alone (BART reads the last EOS token; mean pooling reads every token)"
            logger.info("first-token pruning does not apply: %s", reason)
            return graph, report, {"applied": False, "reason": reason}
        pruned_report, problem = check(pruned_path)
    except Exception as exc:  # an op the pass misjudged, a graph too big to rewrite: keep the full graph
        problem = f"the pass failed: {type(exc).__name__}: {exc}"
    if problem is not None:
        logger.warning("first-token pruning skipped: %s", problem)
        return graph, report, {"applied": False, "reason": problem}
    return pruned_path, pruned_report, {"applied": True}
