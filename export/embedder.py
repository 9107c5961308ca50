"""export_embedder(): a sentence-embedding checkpoint -> verified zsc model directory (task "embedding").

The prefilter and the hybrid scoring of the classifier need a second, cheap opinion: a
bi-encoder such as sentence-transformers' all-MiniLM-L6-v2. The graph is optimum's
feature-extraction export (token states); zsc.engine.TextEmbedder mean-pools and normalises.
fp32 must match torch (sentence-transformers' mean pooling) within the tolerance; int8 is the
same per-row scheme as the NLI default (batch-invariant), without SmoothQuant, and its
agreement with fp32 (cosine of each text's two embeddings) is recorded in the manifest.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from zsc.engine import __version__
from zsc.engine.model_dir import TOKENIZER_FILE, Manifest, derive_max_length

from .api import require_export_stack
from .directory import checked_output, finalise_manifest, new_staging, replace_directory
from .int8_view import finalise_checking_twin, twin_difference, twin_for
from .presets import (
    FP32_TOLERANCE,
    OPTIMIZE_CHOICES,
    PRECISION_OF,
    SUPPORTED_ARCHITECTURES,
    WEIGHTS_FILE,
    parse_quantize,
    resolve_preset,
    variant_entry,
)
from .source import check_local_weights, load_fast_tokenizer

logger = logging.getLogger("zsc")

EMBEDDING_QUANTIZE_CHOICES = ("int8", "fp16-w8", "none")
# Texts to validate and measure on when none are given: varied lengths and topics.
BUILTIN_TEXTS = [
    "The stock market fell sharply after the central bank raised interest rates.",
    "Our team won the championship in overtime last night.",
    "A new telescope has photographed the atmosphere of a distant planet.",
    "I want a refund, the product arrived broken.",
    "card arrival", "This example is sports.", "How do I reset my password?",
    "The film was long, slow and beautifully shot; I loved every minute of it, even the ending that everyone hated.",
]


def _max_length(source: str, config: dict, tokenizer) -> int:
    """sentence-transformers' max_seq_length when the checkpoint declares one, else the tokenizer's."""
    declared = Path(source) / "sentence_bert_config.json"
    if declared.is_file():
        length = json.loads(declared.read_text()).get("max_seq_length")
        if isinstance(length, int) and length > 0:
            return length
    return derive_max_length(config, {"model_max_length": tokenizer.model_max_length})


def torch_embeddings(source: str, texts: list[str], max_length: int) -> np.ndarray:
    """The reference: the checkpoint in torch, mean pooling over real tokens, L2-normalised."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()
    with torch.no_grad():
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        states = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (states * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled, dim=1).numpy()


def _embed(directory: Path, texts: list[str], one_at_a_time: bool = False, precision: str = "auto") -> np.ndarray:
    from zsc.engine import TextEmbedder

    embedder = TextEmbedder.from_pretrained(directory, provider="cpu", verify=False, precision=precision)
    if one_at_a_time:
        return np.concatenate([embedder.embed([t]) for t in texts])
    return embedder.embed(texts)


def _runtime_embeddings(directory: Path, texts: list[str]) -> tuple[np.ndarray, str]:
    """The int8 embeddings of ``texts`` from a finished directory as the runtime loads it, and why it chose that graph."""
    from zsc.engine import TextEmbedder

    embedder = TextEmbedder.from_pretrained(directory, provider="cpu", verify=False, precision="int8")
    return embedder.embed(texts), embedder.session.reason


def _agreement(candidate: np.ndarray, fp32: np.ndarray) -> dict[str, float | int]:
    """Cosine of each text's embedding against its fp32 one (rows are unit vectors)."""
    cosines = (candidate * fp32).sum(axis=1)
    return {"texts": len(cosines), "min_cosine_vs_fp32": float(cosines.min()), "mean_cosine_vs_fp32": float(cosines.mean())}


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
) -> Manifest:
    """Export a sentence-embedding model into ``output`` and return its manifest.

    ``quantize``: "int8", "none", or "int8,fp16-w8" (an fp16 graph for CUDA over the int8 graph's
    8-bit weights, beside it)."""
    choices = parse_quantize(quantize)
    if not set(choices) <= set(EMBEDDING_QUANTIZE_CHOICES) or choices[0] == "fp16-w8":
        raise ValueError(f"an embedder exports with quantize in {EMBEDDING_QUANTIZE_CHOICES} (fp16-w8 after int8), got {quantize!r}")
    if optimize not in OPTIMIZE_CHOICES:
        raise ValueError(f"optimize must be one of {OPTIMIZE_CHOICES}, got {optimize!r}")
    out = checked_output(output, force, source)
    require_export_stack()
    from optimum.exporters.onnx import main_export
    from transformers import AutoConfig

    from .optimize import optimize_graph
    from .quantize import derive_fp16_from_int8, quantize_int8_per_row, share_weights

    config = AutoConfig.from_pretrained(source)
    if config.model_type not in SUPPORTED_ARCHITECTURES:
        raise ValueError(f"unsupported architecture {config.model_type!r}; zsc export supports {sorted(SUPPORTED_ARCHITECTURES)}")
    tokenizer = load_fast_tokenizer(source)
    check_local_weights(source)
    texts = list(validation_texts or BUILTIN_TEXTS)
    max_length = _max_length(source, config.to_dict(), tokenizer)
    quant_preset = resolve_preset(preset) if "int8" in choices else None
    staging = new_staging(out)
    try:
        work = staging / "work"
        main_export(source, output=work / "fp32", task="feature-extraction", do_validation=False, device="cpu")
        graph = work / "fp32" / "model.onnx"
        if optimize != "none":
            graph = optimize_graph(work / "fp32", work / "optimized", optimize)
        tokenizer.backend_tokenizer.save(str(staging / TOKENIZER_FILE))
        config.save_pretrained(staging)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        manifest = Manifest(entailment_id=0, contradiction_id=0, max_length=max_length, pad_token_id=int(pad), id2label={},
                            model_type=config.model_type, precision=PRECISION_OF[choices[0]],
                            optimization=None if optimize == "none" else optimize,
                            quantization_preset=quant_preset.name if quant_preset else None, source=source,
                            zsc_version=__version__, task="embedding")
        reference = torch_embeddings(source, texts, max_length)
        shutil.copyfile(graph, staging / manifest.model_file)
        finalise_manifest(staging, manifest, {})
        fp32 = _embed(staging, texts)
        worst = float(np.abs(fp32 - reference).max())
        if worst > tolerance:
            raise ValueError(f"exported fp32 embedder differs from torch by {worst:.3g} (> {tolerance:g}); the export is wrong")
        parity: dict[str, dict[str, Any]] = {"fp32": {"texts": len(texts), "max_abs_diff_vs_torch": worst}}
        together = fp32  # the final graph's embeddings of all texts in one call
        if quant_preset is not None:
            quantize_int8_per_row(graph, staging / manifest.model_file, quant_preset)
            finalise_manifest(staging, manifest, {})
            together = _embed(staging, texts)
            parity["int8"] = _agreement(together, fp32)
        if quant_preset is not None and "fp16-w8" in choices:
            variant = variant_entry(1, "fp16-w8")
            derive_fp16_from_int8(graph, staging / variant["file"], quant_preset)
            share_weights(staging / manifest.model_file, [staging / variant["file"]], WEIGHTS_FILE)
            manifest = finalise_manifest(staging, replace(manifest, variants=[variant]), {})
            half = _embed(staging, texts, precision="fp16")
            parity["fp16"] = _agreement(half, fp32) | {
                "batch_invariance_max_abs_diff": float(np.abs(_embed(staging, texts, True, "fp16") - half).max())}
        alone = _embed(staging, texts, one_at_a_time=True)
        parity[manifest.precision]["batch_invariance_max_abs_diff"] = float(np.abs(alone - together).max())
        manifest = replace(manifest, int8_view=twin_for(staging, manifest.model_file, quant_preset, "fp16-w8" in choices))
        shutil.rmtree(work)
        manifest = finalise_checking_twin(staging, manifest, parity,
                                          lambda: twin_difference(partial(_runtime_embeddings, staging, texts), together))
        replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("exported embedder %s to %s (%s)", source, out, json.dumps(manifest.parity))
    return manifest
