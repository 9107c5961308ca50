"""Bring your own embedder: a sentence-transformers checkpoint of every exportable architecture,
exported with `--task embedding`, embeds as sentence-transformers' own `encode` does (fp32, 1e-5):
its pooling (mean, CLS, last token) and its default prompt read from the checkpoint's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tiny_models import BUILDERS

from zsc.engine import TextEmbedder, ZeroShotClassifier
from zsc.engine.manifest import MANIFEST_FORMAT

sentence_transformers = pytest.importorskip("sentence_transformers")

TEXTS = ["The stock market fell after the bank raised rates.", "sports", "A telescope photographed a distant planet.",
         "I want a refund, the product arrived broken and nobody answers my emails.", "card arrival"]
POOLING_KEYS = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "lasttoken": "pooling_mode_lasttoken"}
# Each architecture with one pooling, so that every pooling runs on several of them; every other one with e5-style prompts.
CASES = [(arch, list(POOLING_KEYS)[i % 3], i % 2 == 0) for i, arch in enumerate(sorted(BUILDERS))]


def as_sentence_transformer(checkpoint: Path, folder: Path, pooling: str, prompts: bool) -> Path:
    """The tiny checkpoint in sentence-transformers' layout: encoder, Pooling, Normalize (and prompts)."""
    shutil.copytree(checkpoint, folder)
    from transformers import AutoConfig

    hidden = AutoConfig.from_pretrained(folder).hidden_size  # d_model, dim: each family's name for it
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": hidden, **{key: mode == pooling for mode, key in POOLING_KEYS.items()}}))
    (folder / "2_Normalize").mkdir()
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 32, "do_lower_case": False}))
    settings = {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"} if prompts else {}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(settings))
    return folder


@pytest.mark.parametrize("arch, pooling, prompts", CASES, ids=[f"{a}-{p}{'-prompt' if q else ''}" for a, p, q in CASES])
def test_an_exported_embedder_encodes_as_sentence_transformers(tiny_hf, tmp_path, arch, pooling, prompts):
    from zsc.export.embedder import export_embedder

    source = as_sentence_transformer(tiny_hf(arch), tmp_path / "st", pooling, prompts)
    manifest = export_embedder(str(source), tmp_path / "zsc", quantize="none", optimize="none", progress=False)
    assert (manifest.pooling, manifest.prompt) == (pooling, "query: " if prompts else "")
    assert manifest.format == (2 if pooling != "mean" or prompts else 1) <= MANIFEST_FORMAT  # older runtimes refuse what they would misread
    ours = TextEmbedder.from_pretrained(tmp_path / "zsc").embed(TEXTS)
    theirs = sentence_transformers.SentenceTransformer(str(source), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert np.abs(ours - theirs).max() <= 1e-5


def test_a_prompt_by_name_or_as_given(tiny_hf, tmp_path):
    from zsc.export.embedder import export_embedder

    source = as_sentence_transformer(tiny_hf("bert"), tmp_path / "st", "cls", prompts=True)
    passage = export_embedder(str(source), tmp_path / "passage", quantize="none", optimize="none", progress=False, prompt_name="passage")
    given = export_embedder(str(source), tmp_path / "given", quantize="none", optimize="none", progress=False, prompt="")
    assert (passage.prompt, given.prompt) == ("passage: ", "")
    model = sentence_transformers.SentenceTransformer(str(source), device="cpu")
    for folder, name in ((tmp_path / "passage", "passage"), (tmp_path / "given", None)):
        theirs = model.encode(TEXTS, normalize_embeddings=True, prompt_name=name, prompt=None if name else "")
        assert np.abs(TextEmbedder.from_pretrained(folder).embed(TEXTS) - theirs).max() <= 1e-5
    with pytest.raises(ValueError, match="no prompt called 'document'; its prompts: \\['passage', 'query'\\]"):
        export_embedder(str(source), tmp_path / "bad", quantize="none", optimize="none", progress=False, prompt_name="document")


@pytest.mark.parametrize("change, message", [
    (lambda folder: (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True})),
     "pooling 'max_tokens' is not one zsc runs"),
    (lambda folder: (folder / "modules.json").write_text(json.dumps(
        [*json.loads((folder / "modules.json").read_text()), {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}])),
     "module 'Dense' \\(3_Dense\\) is not one zsc runs"),
])
def test_what_zsc_cannot_reproduce_is_refused_by_name(tiny_hf, tmp_path, change, message):
    from zsc.export.embedder import export_embedder

    source = as_sentence_transformer(tiny_hf("bert"), tmp_path / "st", "mean", prompts=False)
    change(source)
    with pytest.raises(ValueError, match=message):
        export_embedder(str(source), tmp_path / "zsc", quantize="none", optimize="none", progress=False)
    assert not (tmp_path / "zsc").exists()


def test_a_cls_pooled_prompted_embedder_beside_an_nli_model(tiny_hf, tiny_exported, tmp_path):
    """Paired with any NLI model: the hybrid and the prefilter read its cosines, with its prompt."""
    from zsc.export.embedder import export_embedder

    source = as_sentence_transformer(tiny_hf("roberta"), tmp_path / "st", "cls", prompts=True)
    export_embedder(str(source), tmp_path / "embedder", quantize="none", optimize="none", progress=False)
    clf = ZeroShotClassifier.from_pretrained(tiny_exported("bert"), embedder=tmp_path / "embedder")
    labels = ["sports", "business", "science"]
    theirs = sentence_transformers.SentenceTransformer(str(source), device="cpu")
    cosine = theirs.encode(TEXTS[:2], normalize_embeddings=True) @ theirs.encode(labels, normalize_embeddings=True).T
    prepared = clf.prepare(TEXTS[:2], labels, scoring="hybrid")
    np.testing.assert_allclose(np.stack(prepared.similarity), cosine, atol=1e-5)
    assert [row[0]["label"] for row in clf(TEXTS[:2], labels, scoring="embedding")] == [labels[i] for i in cosine.argmax(axis=1)]
