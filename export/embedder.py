"""export_embedder(): a sentence-embedding checkpoint -> verified zsc model directory (task "embedding").

The prefilter and the hybrid scoring of the classifier need a second, cheap opinion: a
bi-encoder such as sentence-transformers' all-MiniLM-L6-v2, e5, bge or gte. The graph is
optimum's feature-extraction export (token states); zsc.engine.TextEmbedder pools them as the
checkpoint's sentence-transformers files say (mean, CLS or last token; embedder_layout.py), after
its prompt, and normalises. The steps are the NLI export's (pipeline.py): fp32 must match torch
(the same pooling) within the tolerance, the optimised graph is kept only where it still does; int8 is the
same per-row scheme as the NLI default (batch-invariant), without SmoothQuant, and its agreement
with fp32 (cosine of each text's two embeddings) is recorded in the manifest.
"""

from __future__ import annotations

from pathlib import Path

from zsc.engine.manifest import Manifest

from .api import check_options
from .directory import checked_output
from .pipeline import require_export_stack, run_export
from .presets import FP32_TOLERANCE
from .recipes import parse_quantize
from .tasks import EmbeddingTask


def export_embedder(
    source: str,
    output: str | Path,
    *,
    quantize: str = "int8",
    optimize: str = "O2",
    preset: str = "auto",
    force: bool = False,
    validation_texts: list[str] | None = None,
    tolerance: float = FP32_TOLERANCE,
    progress: bool = True,
    prompt_name: str | None = None,
    prompt: str | None = None,
) -> Manifest:
    """Export a sentence-embedding model into ``output`` and return its manifest.

    ``quantize``: "int8", "none", or "int8,fp16-w8" (an fp16 graph for CUDA over the int8 graph's
    8-bit weights, beside it). The prompt put before every text and label the embedder reads:
    ``prompt`` as given, else the checkpoint's prompt called ``prompt_name`` (its
    config_sentence_transformers.json, e.g. "query"), else its default prompt, else none."""
    recipes = parse_quantize(quantize, "embedding")
    check_options(optimize, None)
    out = checked_output(output, force, source)
    require_export_stack()

    return run_export(EmbeddingTask(source, validation_texts, prompt_name, prompt), out, recipes, optimize=optimize, preset=preset, tolerance=tolerance,
                      progress=progress)
