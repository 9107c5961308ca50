"""The per-row graph's attention core: ONNX's Attention (opset 23) with a boolean key mask where the
fused op read key lengths, with the same logits as the contrib MultiHeadAttention it replaced."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from zsc.export import export_model, per_row
from zsc.export.per_row import ATTENTION_OPSET, quantize_per_row


@pytest.fixture(scope="module")
def fused_bert(tiny_hf, tmp_path_factory):
    """A tiny BERT exported to fp32 with onnxruntime's fusions (O2): its attention is one fused Attention op."""
    out = tmp_path_factory.mktemp("fused-bert") / "model"
    export_model(str(tiny_hf("bert")), out, quantize="none", optimize="O2", progress=False)
    return out / "model.onnx"


def attention_ops(path) -> list[str]:
    return [f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in onnx.load(str(path)).graph.node if "Attention" in n.op_type]


def padded_batch(lengths: list[int], width: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    mask = (np.arange(width)[None] < np.array(lengths)[:, None]).astype(np.int64)
    ids = rng.integers(5, 500, (len(lengths), width)) * mask
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def logits(path, feed: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    return session.run(None, {k: v for k, v in feed.items() if k in wanted})[0]


def test_onnx_attention_gives_the_logits_of_multi_head_attention(fused_bert, tmp_path, monkeypatch):
    onnx_core = tmp_path / "onnx_attention.onnx"
    quantize_per_row(fused_bert, onnx_core, "int8")
    assert set(attention_ops(onnx_core)) == {"ai.onnx:Attention"}
    assert {o.version for o in onnx.load(str(onnx_core)).opset_import if o.domain in ("", "ai.onnx")} == {ATTENTION_OPSET}
    # The same rewrite where the key mask cannot be read as a boolean one keeps MultiHeadAttention.
    monkeypatch.setattr(per_row, "_boolean_key_mask", lambda *args: None)
    contrib_core = tmp_path / "multi_head_attention.onnx"
    quantize_per_row(fused_bert, contrib_core, "int8")
    assert set(attention_ops(contrib_core)) == {"com.microsoft:MultiHeadAttention"}
    feed = padded_batch([12, 5, 9, 1], 12)
    assert np.abs(logits(onnx_core, feed) - logits(contrib_core, feed)).max() <= 1e-6


def test_a_text_alone_and_padded_in_a_batch_gets_the_same_logits(fused_bert, tmp_path):
    graph = tmp_path / "model.onnx"
    quantize_per_row(fused_bert, graph, "int8")
    lengths = [11, 4, 7]
    together = logits(graph, padded_batch(lengths, 16))
    for row, length in enumerate(lengths):
        alone = {k: v[row:row + 1, :length] for k, v in padded_batch(lengths, 16).items()}
        assert np.array_equal(logits(graph, alone)[0], together[row])
