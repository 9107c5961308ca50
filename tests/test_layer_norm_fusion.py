"""Residual layer norms stay Add, Add and LayerNormalization on CPU: onnxruntime's fused
SkipLayerNormalization is several times slower there. The export leaves them unfused, and the
CPU session zsc creates does not fuse them back at load."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from unittest import mock

import onnx
import onnxruntime as ort
import pytest

from zsc.engine import ZeroShotClassifier
from zsc.engine import session as engine_session
from zsc.export import export_model


@pytest.fixture(scope="module")
def fused_bert(tiny_hf, tmp_path_factory) -> Path:
    """A tiny BERT exported to fp32 with onnxruntime's transformer fusions (O2)."""
    out = tmp_path_factory.mktemp("fused-bert") / "model"
    export_model(str(tiny_hf("bert")), out, quantize="none", optimize="O2", progress=False)
    return out


def op_counts(path: Path) -> Counter[str]:
    return Counter(node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node)


def graph_after_load(model_dir: Path, tmp_path: Path) -> Path:
    """The graph as zsc's CPU session runs it, after onnxruntime's load-time optimisations."""
    plain = engine_session.session_options
    written = tmp_path / "as_loaded.onnx"

    def writing_the_optimised_graph(*args, **kwargs):
        options = plain(*args, **kwargs)
        options.optimized_model_filepath = str(written)
        return options

    with mock.patch.object(engine_session, "session_options", writing_the_optimised_graph):
        ZeroShotClassifier.from_pretrained(model_dir, provider="cpu")
    return written


def test_the_export_fuses_attention_but_leaves_residual_layer_norms_unfused(fused_bert):
    ops = op_counts(fused_bert / "model.onnx")
    assert ops["SkipLayerNormalization"] == 0
    layers = ops["Attention"]
    assert layers >= 1  # the other fusions still apply
    assert ops["LayerNormalization"] >= 2 * layers  # two residual norms per layer (the embeddings' one besides)
    fused = json.loads((fused_bert / "zsc.json").read_text())["transformations"]["optimize"]["fused_ops"]
    assert "SkipLayerNormalization" not in fused and fused["LayerNormalization"] == ops["LayerNormalization"]


def test_the_cpu_session_does_not_fuse_them_back(default_model_dir, tmp_path):
    """The embedded default as zsc's CPU session loads it, against onnxruntime's own load-time
    optimisations left to themselves, which fuse (most of) its residual norms."""
    assert op_counts(default_model_dir / "model.onnx")["SkipLayerNormalization"] == 0
    loaded = op_counts(graph_after_load(default_model_dir, tmp_path))
    assert loaded["SkipLayerNormalization"] == 0 and loaded["LayerNormalization"] >= 2
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "fused_by_onnxruntime.onnx")
    ort.InferenceSession(str(default_model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
    assert op_counts(tmp_path / "fused_by_onnxruntime.onnx")["SkipLayerNormalization"] >= 1
