"""The one export pipeline, for NLI classifiers and sentence embedders alike: checkpoint -> fp32
graph -> optimised and pruned where the result still matches torch -> one graph per precision
recipe -> the int8 twin -> parity of every graph -> the manifest, finalised once -> the directory,
renamed into place. What differs per task is ``tasks.py``'s."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from zsc.engine import __version__
from zsc.engine.distribution import install_hint
from zsc.engine.manifest import Manifest
from zsc.engine.model_files import TOKENIZER_FILE

from .convert import export_fp32
from .directory import new_staging, replace_directory
from .errors import ParityError
from .int8_twin import finalise_checking_twin, twin_difference, twin_for
from .optimize import fused_ops, optimize_graph
from .per_row import MIN_GATHER_ELEMENTS
from .presets import FP32_TOLERANCE, QuantPreset, resolve_preset
from .prune import prune_to_first_token
from .quantize import share_weights
from .recipes import WEIGHTS_FILE, GraphBuild, Recipe, graph_file, variant_entry
from .tasks import ExportTask, GraphCheck

logger = logging.getLogger("zsc")

Check = Callable[[Path], tuple[GraphCheck, "str | None"]]


def require_export_stack() -> None:
    """Fail with an install hint when the export extra (torch, transformers, optimum) is missing."""
    try:
        import optimum.exporters.onnx  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"zsc export needs the export extra: {install_hint('export')} ({exc})") from exc


def run_export(task: ExportTask, out: Path, recipes: tuple[Recipe, ...], *, optimize: str, preset: str, opset: int | None = None,
               tolerance: float = FP32_TOLERANCE, first_token_only: bool = True, progress: bool = True,
               manifest_fields: dict[str, Any] | None = None) -> Manifest:
    """Export ``task``'s checkpoint into ``out`` (checked by the caller) and return its manifest.
    The fp32 graph must match torch within ``tolerance`` or the export fails; the other graphs'
    figures are measured and recorded in the manifest, with their batch invariance."""
    from tqdm.auto import tqdm


    quant_preset = resolve_preset(preset) if any(r.uses_preset for r in recipes) else None
    staging = new_staging(out)
    steps = tqdm(total=5, desc=f"export {Path(task.source).name}", disable=not progress, unit="step")
    try:
        work = staging / "work"
        plain = export_fp32(task.source, work / "fp32", task.optimum_task, opset)
        steps.update()

        tokenizer = staging / TOKENIZER_FILE
        task.tokenizer.backend_tokenizer.save(str(tokenizer))
        task.config.save_pretrained(staging)
        manifest = task.manifest(precision=recipes[0].precision, quantization_preset=quant_preset.name if quant_preset else None,
                                 source=task.source, zsc_version=__version__,
                                 variants=[variant_entry(i, r) for i, r in enumerate(recipes) if i > 0])
        # What each transformation did to this architecture's graph, or why it was skipped.
        transformations: dict[str, Any] = {}
        reference = task.reference()
        check = partial(_checked_graph, task, reference, tokenizer, manifest, tolerance)
        graph, fp32, transformations["optimize"] = _optimized_if_exact(plain, work / "optimized", optimize, check, task.config.model_type)
        steps.update()
        if task.prunes and first_token_only:
            graph, fp32, transformations["first_token_only"] = _prune_if_exact(graph, work / "pruned.onnx", fp32, check)
        else:
            transformations["first_token_only"] = {"applied": False, "reason": task.prune_reason or "--all-tokens"}
        manifest = replace(manifest, optimization=optimize if transformations["optimize"]["applied"] else None,
                           first_token_only=transformations["first_token_only"]["applied"])
        steps.update()

        paths = _write_graphs(task, graph, tokenizer, manifest, recipes, quant_preset, staging, transformations)
        manifest = replace(manifest, transformations=transformations, **(manifest_fields or {}),
                           int8_view=twin_for(staging, paths["int8"].name, quant_preset, any(r.shares_weights_of == "int8" for r in recipes))
                           if "int8" in paths else {})
        steps.update()

        parity: dict[str, dict[str, Any]] = {"fp32": dict(fp32.report)}
        checks = {"fp32": fp32}
        for recipe in recipes:
            measured = replace(manifest, precision=recipe.precision)
            if recipe.precision != "fp32":
                checks[recipe.precision] = task.check(reference, paths[recipe.choice], tokenizer, measured)
                parity[recipe.precision] = task.parity(checks[recipe.precision], fp32)
            parity[recipe.precision][task.invariance_key] = task.batch_invariance(checks[recipe.precision], paths[recipe.choice],
                                                                                  tokenizer, measured)
        shutil.rmtree(work)
        manifest = finalise_checking_twin(staging, manifest, parity,
                                          lambda: twin_difference(partial(task.runtime_outputs, staging), checks["int8"].outputs))
        replace_directory(staging, out)
        steps.update()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        steps.close()
    logger.info("exported %s to %s (%s)", task.source, out, json.dumps(manifest.parity))
    return manifest


def _write_graphs(task: ExportTask, graph: Path, tokenizer: Path, manifest: Manifest, recipes: tuple[Recipe, ...],
                  preset: QuantPreset | None, staging: Path, transformations: dict[str, Any]) -> dict[str, Path]:
    """One graph per recipe from the checked fp32 ``graph``, named as the manifest lists them; a
    recipe built over another's 8-bit weights then shares that graph's weights file."""

    smoothing = None
    if preset is not None and task.calibrates and any(r.calibrated for r in recipes):
        smoothing = task.smoothing(graph, tokenizer, manifest)
    paths = {r.choice: staging / graph_file(i, r.precision) for i, r in enumerate(recipes)}
    for recipe in recipes:
        build = GraphBuild(graph, paths[recipe.choice], preset if recipe.uses_preset else None, smoothing if recipe.calibrated else None)
        counts = recipe.build(build)
        if counts is not None:
            transformations[recipe.choice] = per_row_note(counts, build.smoothing)
    for recipe in recipes:
        if recipe.shares_weights_of is not None:
            shared = share_weights(paths[recipe.shares_weights_of], [paths[recipe.choice]], WEIGHTS_FILE)
            logger.info("%s shares %.1f MB of 8-bit weights with the %s graph", recipe.choice, shared / 1e6, recipe.shares_weights_of)
    return paths


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


def _checked_graph(task: ExportTask, reference: Any, tokenizer: Path, manifest: Manifest, tolerance: float,
                   graph: Path) -> tuple[GraphCheck, str | None]:
    """The graph's agreement with torch, and why it is not good enough (None when it is)."""
    checked = task.check(reference, graph, tokenizer, manifest)
    if checked.worst > tolerance:
        return checked, f"{task.outputs_are} differ from torch by {checked.worst:.3g} (> {tolerance:g}) on {task.inputs}"
    return checked, None


def _optimized_if_exact(plain: Path, optimized_dir: Path, level: str, check: Check, model_type: str | None = None
                        ) -> tuple[Path, GraphCheck, dict[str, Any]]:
    """The fused graph when onnxruntime's optimiser handles this architecture and the result
    still matches torch; else the plain export (which must match, or the export is wrong)."""

    reason = "--optimize none"
    if level != "none":
        try:
            optimized = optimize_graph(plain.parent, optimized_dir, level, model_type)
            checked, problem = check(optimized)
            if problem is None:
                return optimized, checked, {"applied": True, "level": level, "fused_ops": fused_ops(optimized)}
            reason = f"the {level} graph's {problem}"
        except Exception as exc:  # the optimiser does not know this architecture, or broke on it
            reason = f"the {level} optimiser failed: {type(exc).__name__}: {exc}"
        logger.warning("graph optimisation skipped, the plain fp32 graph is kept: %s", reason)
    checked, problem = check(plain)
    if problem is not None:
        raise ParityError(f"the exported fp32 graph's {problem}; the export is wrong")
    return plain, checked, {"applied": False, "level": level, "reason": reason}


def _prune_if_exact(graph: Path, pruned_path: Path, checked: GraphCheck, check: Check) -> tuple[Path, GraphCheck, dict[str, Any]]:
    """The pruned graph and its check, or the given graph and check when pruning does not apply
    or would change the outputs; with the manifest's note of which and why."""

    try:
        if not prune_to_first_token(graph, pruned_path):
            reason = "the graph does not pool token 0 alone (BART reads the last EOS token; mean pooling reads every token)"
            logger.info("first-token pruning does not apply: %s", reason)
            return graph, checked, {"applied": False, "reason": reason}
        pruned, problem = check(pruned_path)
    except Exception as exc:  # an op the pass misjudged, a graph too big to rewrite: keep the full graph
        problem = f"the pass failed: {type(exc).__name__}: {exc}"
    if problem is not None:
        logger.warning("first-token pruning skipped: %s", problem)
        return graph, checked, {"applied": False, "reason": problem}
    return pruned_path, pruned, {"applied": True}
