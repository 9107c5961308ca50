"""The contenders, built the same way for every benchmark: same model, same thread count."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MINILM = SHARED / "models" / "minilm-l6-nli"
CACHE = REPO / "benchmarks" / ".cache"
DEFAULT_MODEL = REPO / "engine" / "models" / "default"

Classify = Callable[..., list[list[dict[str, Any]]]]  # (texts, labels, multi_label=False)
PORTABLE_INT8 = "int8, portable graph (what AVX2 alone runs)"


@dataclass
class Contender:
    name: str
    classify: Classify  # texts, labels, multi_label -> per text, ranked [{label, score}]
    precision: str
    first_token_only: bool = False  # runs a graph whose last layer's top computes token 0 only


def runs_first_token_only(model_dir: Path) -> bool:
    from zsc.engine.model_dir import load_model_directory

    return load_model_directory(model_dir, verify=False).manifest.first_token_only


def cached_export(name: str, **options: Any) -> Path:
    """The shared model exported by zsc with ``options``, cached under benchmarks/.cache."""
    out = CACHE / name
    manifest = out / "zsc.json"
    # Re-export when the cached graph predates an export step (first-token pruning) or a mode
    # changed meaning (int8 was dynamic before it was per-row: its parity then lacks the invariance check).
    quantize = options.get("quantize", "int8")
    precision = "fp32" if quantize == "none" else quantize
    cached = json.loads(manifest.read_text()) if manifest.exists() else {}
    if ("first_token_only" not in cached or cached.get("precision") != precision or fuses_skip_layer_norm(cached)
            or "batch_invariance_max_abs_logit_diff" not in cached.get("parity", {}).get(precision, {})):
        from zsc.export import export_model

        export_model(str(MINILM), out, force=True, progress=False, **options)
    return out


def fuses_skip_layer_norm(manifest: dict[str, Any]) -> bool:
    """Whether a cached export predates zsc leaving SkipLayerNormalization unfused (its graph is
    slower on CPU than a fresh export's, so it is exported again)."""
    return "SkipLayerNormalization" in manifest.get("transformations", {}).get("optimize", {}).get("fused_ops", {})


def zsc_dynamic_int8_dir() -> Path:
    """The shared model exported by zsc to int8-dynamic (the default before per-row int8)."""
    return cached_export("minilm-int8-dynamic-o2", quantize="int8-dynamic", optimize="O2", preset="avx2")


def portable_default_dir() -> Path:
    """The embedded default without its int8 twin: the portable graph, which a CPU without 8-bit
    dot products (AVX2 alone) runs; on a VNNI CPU, the side-by-side of the twin's speed-up."""
    import shutil

    from zsc.engine.model_files import MANIFEST_NAME, write_manifest

    out = CACHE / "default-portable"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(DEFAULT_MODEL, out)
    data = json.loads((out / MANIFEST_NAME).read_text())
    data["int8_view"] = {}
    write_manifest(out / MANIFEST_NAME, data)
    return out


def zsc_fp32_dir() -> Path:
    """The shared model exported by zsc to fused fp32."""
    return cached_export("minilm-fp32-o2", quantize="none", optimize="O2")


def pipeline_result(raw: Any) -> list[list[dict[str, Any]]]:
    raw = raw if isinstance(raw, list) else [raw]
    return [[{"label": l, "score": s} for l, s in zip(r["labels"], r["scores"])] for r in raw]


def torch_pipeline(threads: int, batch_size: int) -> Contender:
    import torch
    from transformers import pipeline

    torch.set_num_threads(threads)
    pipe = pipeline("zero-shot-classification", model=str(MINILM), device=-1)
    return Contender(
        f"transformers torch (batch {batch_size})",
        lambda texts, labels, multi_label=False: pipeline_result(pipe(texts, candidate_labels=labels, batch_size=batch_size, multi_label=multi_label)),
        "fp32",
    )


def optimum_pipeline(model_dir: Path, threads: int, precision: str, batch_size: int = 32) -> Contender:
    import onnxruntime as ort
    from optimum.onnxruntime import ORTModelForSequenceClassification
    from transformers import AutoTokenizer, pipeline

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    model = ORTModelForSequenceClassification.from_pretrained(model_dir, file_name="model.onnx", session_options=options, provider="CPUExecutionProvider")
    pipe = pipeline("zero-shot-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(MINILM), device=-1)
    return Contender(
        f"optimum ORT {precision} + pipeline",
        lambda texts, labels, multi_label=False: pipeline_result(pipe(texts, candidate_labels=labels, batch_size=batch_size, multi_label=multi_label)),
        precision,
        runs_first_token_only(model_dir),
    )


def zsc(model_dir: Path, threads: int, precision: str) -> Contender:
    from zsc.engine import ZeroShotClassifier

    classifier = ZeroShotClassifier.from_pretrained(model_dir, provider="cpu", threads=threads)
    # the pipeline's scores over every label, like for like (with an embedder the default call prefilters past 10 labels
    # and calibrates multi-label scores)
    return Contender(f"zsc {precision}", lambda texts, labels, multi_label=False: classifier(texts, labels, multi_label=multi_label,
                                                                                           scoring="nli", prefilter_top_k=None),
                     precision, runs_first_token_only(model_dir))


def all_contenders(threads: int, torch_batch: int = 32) -> list[Contender]:
    """Every contender; on a CPU with 8-bit dot products (where the default runs its int8 twin)
    also the default's portable graph, which a CPU without them runs."""
    from zsc.engine.cpu import has_int8_dot_products

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    fp32 = zsc_fp32_dir()
    portable = [zsc(portable_default_dir(), threads, PORTABLE_INT8)] if has_int8_dot_products() else []
    return [
        torch_pipeline(threads, torch_batch),
        optimum_pipeline(fp32, threads, "fp32"),
        optimum_pipeline(DEFAULT_MODEL, threads, "int8"),
        zsc(fp32, threads, "fp32"),
        zsc(zsc_dynamic_int8_dir(), threads, "int8-dynamic"),
        zsc(DEFAULT_MODEL, threads, "int8"),
        *portable,
    ]
