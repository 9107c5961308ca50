"""First-token pruning: exact on graphs that pool token 0, and left alone everywhere else."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from tiny_models import BUILDERS  # noqa: E402

from zsc.engine.model_dir import load_model_directory  # noqa: E402
from zsc.export import export_model  # noqa: E402
from zsc.export.prune import prune_to_first_token  # noqa: E402

HIDDEN = 8


def attention_like_graph(pool: str) -> onnx.ModelProto:
    """x -> y = x W1 -> c = (y y^T) y  (mixes tokens) -> e = c W2 + y -> pooled.

    Only `c W2 + y` is token-wise above the token mixing, so only that part may be pruned."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.normal(size=(HIDDEN, HIDDEN)).astype(np.float32), n) for n in ("w1", "w2")]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["y"]),
        helper.make_node("Transpose", ["y"], ["yt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["y", "yt"], ["scores"]),
        helper.make_node("MatMul", ["scores", "y"], ["c"]),
        helper.make_node("MatMul", ["c", "w2"], ["d"]),
        helper.make_node("Add", ["d", "y"], ["e"]),
    ]
    initializers = list(weights)
    if pool == "first":
        initializers.append(numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"))
        nodes.append(helper.make_node("Gather", ["e", "zero"], ["out"], axis=1))
    else:
        nodes.append(helper.make_node("ReduceMean", ["e"], ["out"], axes=[1], keepdims=0))
    graph = helper.make_graph(
        nodes, "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "sequence", HIDDEN])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def run(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def test_pruned_graph_gives_the_same_output(tmp_path):
    original, pruned = tmp_path / "original.onnx", tmp_path / "pruned.onnx"
    onnx.save(attention_like_graph("first"), original)
    assert prune_to_first_token(original, pruned)
    model = onnx.load(pruned)
    slices = [n for n in model.graph.node if n.op_type == "Slice"]
    assert sorted(n.input[0] for n in slices) == ["c", "y"]  # above the token mixing, nothing else
    x = np.random.default_rng(1).normal(size=(3, 5, HIDDEN)).astype(np.float32)
    np.testing.assert_allclose(run(pruned, x), run(original, x), rtol=1e-5, atol=1e-5)


def test_graph_pooling_otherwise_is_left_alone(tmp_path):
    original = tmp_path / "mean.onnx"
    onnx.save(attention_like_graph("mean"), original)
    assert not prune_to_first_token(original, tmp_path / "pruned.onnx")
    assert not (tmp_path / "pruned.onnx").exists()


@pytest.mark.parametrize("arch", sorted(BUILDERS))
def test_exports_record_whether_they_were_pruned(arch, tiny_exported):
    # BART classifies from the last EOS token, so nothing may be pruned there; every other
    # architecture here pools token 0 ([CLS] or <s>), ModernBERT with its default "cls" pooling.
    manifest = load_model_directory(tiny_exported(arch)).manifest
    assert manifest.first_token_only is (arch != "bart")
    assert manifest.transformations["first_token_only"]["applied"] is manifest.first_token_only
    if arch == "bart":
        assert "does not pool token 0" in manifest.transformations["first_token_only"]["reason"]


def test_mean_pooled_modernbert_is_not_pruned_and_says_why(tiny_hf, tmp_path):
    import json
    import shutil

    source = tmp_path / "modernbert-mean"
    shutil.copytree(tiny_hf("modernbert"), source)
    config = json.loads((source / "config.json").read_text())
    (source / "config.json").write_text(json.dumps(config | {"classifier_pooling": "mean"}))
    manifest = export_model(str(source), tmp_path / "out", quantize="none", optimize="none", progress=False)
    assert manifest.first_token_only is False and "mean pooling" in manifest.transformations["first_token_only"]["reason"]
    assert manifest.parity["fp32"]["max_abs_logit_diff"] <= 1e-5


def test_all_tokens_flag_keeps_the_full_graph_with_the_same_logits(tiny_hf, tiny_exported, tmp_path):
    import subprocess
    import sys

    from zsc.engine import ZeroShotClassifier

    out = tmp_path / "all-tokens"
    result = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "export", str(tiny_hf("bert")), str(out),
                             "--quantize", "none", "--optimize", "none", "--all-tokens"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert load_model_directory(out).manifest.first_token_only is False
    nodes = onnx.load(out / "model.onnx").graph.node
    assert not any(n.name.startswith("zsc_first_token") for n in nodes)
    texts, labels = ["a short text", "a somewhat longer text about sport and money"], ["sport", "money", "law"]
    full = ZeroShotClassifier.from_pretrained(out)
    pruned = ZeroShotClassifier.from_pretrained(tiny_exported("bert"))
    hypotheses = [f"This example is {label}." for label in labels]
    np.testing.assert_allclose(pruned.logits(pruned.encoder.pairs(texts, hypotheses, labels)),
                               full.logits(full.encoder.pairs(texts, hypotheses, labels)), atol=1e-5)


def test_a_pruned_graph_that_breaks_falls_back_to_the_full_graph(tiny_hf, tmp_path, monkeypatch, caplog):
    from zsc.export import export_model, prune

    original = prune._insert_first_token_slices

    def slice_the_wrong_axis(graph, nodes, region, boundary):
        original(graph, nodes, region, boundary)
        axis = next(i for i in graph.initializer if i.name == "zsc_first_token_axis")
        axis.CopyFrom(numpy_helper.from_array(np.array([2], dtype=np.int64), axis.name))

    monkeypatch.setattr(prune, "_insert_first_token_slices", slice_the_wrong_axis)
    manifest = export_model(str(tiny_hf("bert")), tmp_path / "out", quantize="none", optimize="none", progress=False)
    assert manifest.first_token_only is False
    assert manifest.parity["fp32"]["max_abs_logit_diff"] < 1e-4
    assert "first-token pruning skipped" in caplog.text
