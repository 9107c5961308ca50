"""Scoring beyond one NLI pass per label: hybrid, embedding, and the prefilter, with the embedded
models. The default stays the pipeline's exact semantics."""

from __future__ import annotations

import numpy as np
import pytest

from zsc.engine import InputError, InputTypeError, ZeroShotClassifier
from zsc.engine.defaults import (
    DEFAULT_WINDOW_TOKENS,
    EMBEDDING_TEMPERATURE,
    HYBRID_NLI_WEIGHT,
    MULTI_LABEL_MARGIN,
    MULTI_LABEL_NLI_WEIGHT,
    MULTI_LABEL_TEMPERATURE,
    WINDOW_TEMPERATURE,
)
from zsc.engine.embedding import TextEmbedder
from zsc.engine.loading import default_embedder_path, default_model_path

TEXTS = ["The striker scored twice in the cup final.", "Shares slid as the central bank raised rates.",
         "I still have not received my new card.", "A probe photographed the rings of a distant planet."]
LABELS = ["sports", "business", "card arrival", "science", "weather", "politics", "music", "cooking"]


@pytest.fixture(scope="module")
def clf():
    return ZeroShotClassifier.default()


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_the_default_is_the_hybrid_over_every_label_and_a_large_k_changes_nothing(clf):
    default = clf(TEXTS, LABELS)
    assert clf(TEXTS, LABELS, scoring="hybrid", prefilter_top_k=None) == default
    assert clf(TEXTS, LABELS, prefilter_top_k=len(LABELS)) == default
    assert clf(TEXTS, LABELS, prefilter_top_k=1000) == default
    assert clf(TEXTS, LABELS, scoring="nli", prefilter_top_k=1000) == clf(TEXTS, LABELS, scoring="nli")


def test_embedder_gives_unit_vectors_independent_of_batch_mates():
    embedder = TextEmbedder.from_pretrained(default_embedder_path())
    together = embedder.embed(TEXTS + LABELS)
    assert together.shape == (len(TEXTS + LABELS), 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    alone = np.stack([TextEmbedder.from_pretrained(default_embedder_path()).embed([t])[0] for t in TEXTS])
    assert np.abs(alone - together[: len(TEXTS)]).max() == 0  # per-row int8: batch-invariant
    manifest = embedder.model_dir.manifest
    assert manifest.task == "embedding" and manifest.parity["int8"]["min_cosine_vs_fp32"] > 0.98


def test_embedding_scoring_runs_no_nli_pair_and_is_the_similarity_softmax(clf):
    prepared = clf.prepare(TEXTS, LABELS, scoring="embedding")
    assert len(prepared.pairs) == 0
    cos = clf.embedder.embed(TEXTS) @ clf.embedder.embed(LABELS).T
    expected = softmax(cos.astype(np.float64) / EMBEDDING_TEMPERATURE)
    for row, want in zip(clf(TEXTS, LABELS, scoring="embedding"), expected):
        got = {p["label"]: p["score"] for p in row}
        np.testing.assert_allclose([got[label] for label in LABELS], want, atol=1e-6)
        assert [p["score"] for p in row] == sorted((p["score"] for p in row), reverse=True)


def test_hybrid_is_the_product_of_both_distributions(clf):
    prepared = clf.prepare(TEXTS, LABELS)
    entail = clf.logits(prepared.pairs).reshape(len(TEXTS), len(LABELS), -1)[..., clf.entailment_id].astype(np.float64)
    cos = (clf.embedder.embed(TEXTS) @ clf.embedder.embed(LABELS).T).astype(np.float64)
    expected = softmax(HYBRID_NLI_WEIGHT * np.log(softmax(entail)) + cos / EMBEDDING_TEMPERATURE)
    for row, want in zip(clf(TEXTS, LABELS, scoring="hybrid"), expected):
        got = {p["label"]: p["score"] for p in row}
        np.testing.assert_allclose([got[label] for label in LABELS], want, atol=1e-6)
    assert [r[0]["label"] for r in clf(TEXTS, LABELS, scoring="hybrid")] == ["sports", "business", "card arrival", "science"]


@pytest.mark.parametrize("scoring", ["nli", "hybrid"])
def test_prefilter_scores_the_k_most_similar_labels_and_orders_the_rest_by_similarity(clf, scoring):
    k = 3
    prepared = clf.prepare(TEXTS, LABELS, scoring=scoring, prefilter_top_k=k)
    assert len(prepared.pairs) == len(TEXTS) * k  # NLI on K labels per text, not all of them
    cos = clf.embedder.embed(TEXTS) @ clf.embedder.embed(LABELS).T
    for row, sims in zip(clf(TEXTS, LABELS, scoring=scoring, prefilter_top_k=k), cos):
        nearest = {LABELS[i] for i in np.argsort(-sims)[:k]}
        assert {p["label"] for p in row[:k]} == nearest and pytest.approx(1.0) == sum(p["score"] for p in row[:k])
        assert all(p["score"] == 0.0 for p in row[k:]) and len(row) == len(LABELS)
        rest = [p["label"] for p in row[k:]]
        assert rest == sorted(rest, key=lambda label: -sims[LABELS.index(label)])


def test_auto_scoring_is_the_hybrid_where_there_is_an_embedder(clf):
    """The default: the hybrid over every label (its embedder weight from the labels' spread), the
    hybrid on the K a prefilter picked, and the calibrated hybrid for multi-label (NLI with one label)."""
    assert clf(TEXTS, LABELS) == clf(TEXTS, LABELS, scoring="hybrid") == clf(TEXTS, LABELS, scoring="auto")
    assert clf(TEXTS, LABELS) != clf(TEXTS, LABELS, scoring="nli")
    assert clf(TEXTS, LABELS, prefilter_top_k=4) == clf(TEXTS, LABELS, prefilter_top_k=4, scoring="hybrid")
    assert clf(TEXTS, LABELS, prefilter_top_k=4) != clf(TEXTS, LABELS, prefilter_top_k=4, scoring="nli")
    assert clf(TEXTS, LABELS, prefilter_top_k=len(LABELS)) == clf(TEXTS, LABELS, scoring="hybrid")  # nothing narrowed
    assert clf(TEXTS, LABELS, multi_label=True, prefilter_top_k=4) == clf(TEXTS, LABELS, multi_label=True, prefilter_top_k=4, scoring="hybrid")
    assert clf(TEXTS, LABELS, multi_label=True) == clf(TEXTS, LABELS, multi_label=True, scoring="hybrid")
    assert clf(TEXTS, LABELS, multi_label=True) != clf(TEXTS, LABELS, multi_label=True, scoring="nli")
    assert clf(TEXTS, LABELS[:1], multi_label=True) == clf(TEXTS, LABELS[:1], multi_label=True, scoring="nli")
    assert clf.prepare(TEXTS, LABELS, prefilter_top_k=4).scoring == "hybrid"


def test_multi_label_hybrid_and_embedding_use_the_calls_own_baseline(clf):
    """Per label, e = w * (entailment - contradiction) + (cos - mean cos of the other labels) / T,
    scored sigmoid(e - the text's best e + margin): the best label scores sigmoid(margin)."""
    from zsc.engine.defaults import MULTI_LABEL_MARGIN as M
    from zsc.engine.defaults import MULTI_LABEL_NLI_WEIGHT as W
    from zsc.engine.defaults import MULTI_LABEL_TEMPERATURE as T

    prepared = clf.prepare(TEXTS, LABELS, multi_label=True, scoring="nli")
    logits = clf.logits(prepared.pairs).reshape(len(TEXTS), len(LABELS), -1)
    log_odds = logits[..., clf.entailment_id] - logits[..., clf.contradiction_id]
    cos = (clf.embedder.embed(TEXTS) @ clf.embedder.embed(LABELS).T).astype(np.float64)
    relative = cos - (cos.sum(axis=1, keepdims=True) - cos) / (len(LABELS) - 1)
    for scoring, z in (("hybrid", W * log_odds + relative / T), ("embedding", relative / T)):
        expected = 1 / (1 + np.exp(-(z - z.max(axis=1, keepdims=True) + M)))
        for row, want in zip(clf(TEXTS, LABELS, multi_label=True, scoring=scoring), expected):
            got = {p["label"]: p["score"] for p in row}
            assert [got[label] for label in LABELS] == pytest.approx(want, abs=1e-6)
            assert row[0]["score"] == pytest.approx(1 / (1 + np.exp(-M)), abs=1e-9)  # the best label
    # The baseline is the call's label set: adding a label moves the others' scores.
    fewer = clf(TEXTS[0], LABELS[:3], multi_label=True, scoring="hybrid")
    assert {p["label"]: p["score"] for p in fewer} != {p["label"]: p["score"] for p in clf(TEXTS[0], LABELS, multi_label=True, scoring="hybrid")
                                                         if p["label"] in LABELS[:3]}
    single = clf(TEXTS[0], LABELS[:1], multi_label=True, scoring="hybrid")  # one label: no baseline, NLI alone
    assert single[0]["score"] == pytest.approx(1 / (1 + np.exp(-W * log_odds[0, 0])), abs=1e-6)


def test_prefilter_equals_exact_nli_restricted_to_the_same_labels(clf):
    k = 4
    for text, row in zip(TEXTS, clf(TEXTS, LABELS, prefilter_top_k=k, scoring="nli")):
        kept = [p["label"] for p in row[:k]]
        alone = clf(text, kept, scoring="nli")
        assert [(p["label"], round(p["score"], 9)) for p in alone] == [(p["label"], round(p["score"], 9)) for p in row[:k]]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"scoring": "fast"}, InputError, "scoring must be one of"),
    ({"prefilter_top_k": 0}, InputError, "positive integer, got 0"),
    ({"prefilter_top_k": -2}, InputError, "positive integer"),
    ({"prefilter_top_k": True}, InputTypeError, "positive integer, got bool"),
    ({"prefilter_top_k": "3"}, InputTypeError, "positive integer, got str"),
])
def test_bad_options_are_clear_errors(clf, kwargs, error, message):
    with pytest.raises(error, match=message):
        clf(TEXTS[0], LABELS, **kwargs)


def test_without_an_embedder_the_options_that_need_one_say_so():
    plain = ZeroShotClassifier.from_pretrained(default_model_path())
    assert plain(TEXTS[0], LABELS, prefilter_top_k=len(LABELS)) == plain(TEXTS[0], LABELS)  # no embedder needed
    for kwargs in ({"scoring": "hybrid"}, {"scoring": "embedding"}, {"prefilter_top_k": 2}):
        with pytest.raises(ValueError, match="no embedder"):
            plain(TEXTS[0], LABELS, **kwargs)
    with pytest.raises(ValueError, match="holds a model for task 'embedding'"):
        ZeroShotClassifier.from_pretrained(default_embedder_path())


def test_server_accepts_the_zsc_extensions(clf):
    pytest.importorskip("fastapi")
    from test_server import post, running, wait_ready

    from zsc.engine.server.config import Limits, ServerConfig

    config = ServerConfig(models={"default": default_model_path()}, limits=Limits(max_labels=10))
    body = {"inputs": TEXTS, "parameters": {"candidate_labels": LABELS, "scoring": "hybrid", "prefilter_top_k": 3}}
    with running(config) as base:
        wait_ready(base)
        response = post(base, "/", body)
        assert response.status_code == 200, response.text
        assert response.json() == clf(TEXTS, LABELS, scoring="hybrid", prefilter_top_k=3)
        assert post(base, "/", {**body, "parameters": {**body["parameters"], "prefilter_top_k": 0}}).status_code == 400
        for bad in ({"scoring": "fast"}, {"prefilter_top_k": "3"}, {"scoring": 1}):
            response = post(base, "/", {**body, "parameters": {"candidate_labels": LABELS, **bad}})
            assert response.status_code == 400 and response.json()["error"], bad


def test_cli_flags():
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", TEXTS[2], "--labels", ",".join(LABELS),
                             "--scoring", "hybrid", "--prefilter-top-k", "2", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)
    assert predictions[0]["label"] == "card arrival" and sum(p["score"] > 0 for p in predictions) == 2
    bad = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", "x", "--labels", "a,b", "--prefilter-top-k", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "prefilter_top_k must be a positive integer" in bad.stderr


def long_document(on_topic: str) -> str:
    """About 650 words of film reviews with one on-topic sentence at the very end."""
    import json

    from conftest import DATA

    words: list[str] = []
    for line in open(DATA / "zsc/imdb/test.jsonl", encoding="utf-8"):
        words += json.loads(line)["text"].replace("<br />", " ").split()
        if len(words) > 650:
            break
    return " ".join(words[:650]) + " " + on_topic


WINDOW_LABELS = ["sports", "cooking", "finance", "weather"]


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_windows_equal_truncation_when_the_text_fits_one_window(clf, mode):
    short = TEXTS[:2]
    assert clf(short, WINDOW_LABELS, long_text=mode, scoring="nli") == clf(short, WINDOW_LABELS, scoring="nli")
    prepared = clf.prepare(short, WINDOW_LABELS, long_text=mode)
    assert prepared.windows == [1, 1] and len(prepared.pairs) == 2 * len(WINDOW_LABELS)


def test_auto_scores_mean_windows_by_nli_and_max_windows_by_the_hybrid(clf):
    assert clf(TEXTS[:2], WINDOW_LABELS, long_text="mean") == clf(TEXTS[:2], WINDOW_LABELS, scoring="nli")  # one window: the pipeline's
    assert clf.prepare(TEXTS, WINDOW_LABELS, long_text="max").scorings == ["hybrid"] * len(TEXTS)
    assert clf.prepare(TEXTS, WINDOW_LABELS, long_text="max", multi_label=True).scorings == ["hybrid"] * len(TEXTS)
    without_embedder = ZeroShotClassifier.from_pretrained(default_model_path())
    prepared = without_embedder.prepare(TEXTS, WINDOW_LABELS, long_text="max")
    assert prepared.scorings == ["nli"] * len(TEXTS) and prepared.similarity is None  # "auto" never asks for a missing embedder


def test_the_windowed_hybrid_combines_each_windows_log_odds_and_cosine(clf):
    """Recomputed from the parts: each window's NLI logits (nli_logits on the window's text) and
    cosines (the embedder on the same text) less the window's mean cosine with the other labels,
    best window per label, softmax over the labels."""
    document = long_document("In the final minute the striker scored the winning goal and the football team lifted the trophy.")
    prepared = clf.prepare(document, WINDOW_LABELS, long_text="max")
    (windows,) = clf.encoder.windows([document], DEFAULT_WINDOW_TOKENS["max"] or 0, 10**6)
    assert prepared.windows == [len(windows.ids)] and prepared.window_similarity is not None
    texts = windows.texts()
    logits = clf.logits(prepared.pairs).reshape(len(texts), len(WINDOW_LABELS), -1).astype(np.float64)
    cosine = clf.embedder.embed(texts) @ clf.embedder.embed(WINDOW_LABELS).T
    np.testing.assert_allclose(prepared.window_similarity[0], cosine, atol=1e-6)
    others = (cosine.sum(axis=1, keepdims=True) - cosine) / (len(WINDOW_LABELS) - 1)  # the window's baseline
    log_odds = logits[..., clf.entailment_id] - logits[..., clf.contradiction_id]
    expected = softmax((HYBRID_NLI_WEIGHT * log_odds + (cosine - others) / WINDOW_TEMPERATURE).max(axis=0))
    result = clf(document, WINDOW_LABELS, long_text="max")
    assert [p["label"] for p in result] == [WINDOW_LABELS[i] for i in np.argsort(-expected)]
    np.testing.assert_allclose([p["score"] for p in result], np.sort(expected)[::-1], rtol=1e-5)
    assert result[0]["label"] == "sports"


def test_the_multi_label_windowed_hybrid_scores_each_label_on_its_own(clf):
    document = long_document("The central bank raised interest rates and stock markets fell sharply across the world.")
    prepared = clf.prepare(document, WINDOW_LABELS, long_text="max", multi_label=True, scoring="hybrid")
    logits = clf.logits(prepared.pairs).reshape(prepared.windows[0], len(WINDOW_LABELS), -1).astype(np.float64)
    cosine = prepared.window_similarity[0]
    others = (cosine.sum(axis=1, keepdims=True) - cosine) / (len(WINDOW_LABELS) - 1)
    log_odds = logits[..., clf.entailment_id] - logits[..., clf.contradiction_id]
    evidence = (MULTI_LABEL_NLI_WEIGHT * log_odds + (cosine - others) / MULTI_LABEL_TEMPERATURE).max(axis=0)
    expected = 1 / (1 + np.exp(-(evidence - evidence.max() + MULTI_LABEL_MARGIN)))
    result = {p["label"]: p["score"] for p in clf.finish(prepared, clf.logits(prepared.pairs))}
    np.testing.assert_allclose([result[label] for label in WINDOW_LABELS], expected, rtol=1e-6)


def test_window_spans_are_the_text_the_window_ids_come_from(clf):
    document = long_document("A heavy storm with strong winds and freezing rain is expected to hit the coast tonight.")
    (windows,) = clf.encoder.windows([document], 32, 10**6)
    assert len(windows.ids) > 20 and all(len(ids) <= 32 for ids in windows.ids)
    for ids, text in zip(windows.ids, windows.texts()):
        assert clf.encoder.tokenizer.encode(text, add_special_tokens=False).ids == ids.tolist()
    assert windows.spans[0][0] == 0 and windows.spans[-1][1] == len(document)
    assert all(a[1] <= b[0] for a, b in zip(windows.spans, windows.spans[1:]))  # in order, no overlap


def test_max_over_windows_reads_the_end_of_a_long_document(clf):
    document = long_document("In the final minute the striker scored the winning goal and the football team lifted the trophy.")
    prepared = clf.prepare(document, WINDOW_LABELS, long_text="max")
    assert prepared.windows[0] >= 6 and len(prepared.pairs) == prepared.windows[0] * len(WINDOW_LABELS)  # windows are pairs
    assert all(len(p) <= (DEFAULT_WINDOW_TOKENS["max"] or 0) for p in prepared.pairs.firsts)  # the default window for max
    assert clf(document, WINDOW_LABELS)[0]["label"] != "sports"  # truncation never reads the last sentence
    # A window of a few sentences isolates the last one (on this document; bench-long measures many).
    assert clf(document, WINDOW_LABELS, long_text="max", scoring="nli")[0]["label"] == "sports"
    with_prefilter = clf(document, WINDOW_LABELS, long_text="max", prefilter_top_k=2)
    assert len(with_prefilter) == len(WINDOW_LABELS) and sum(p["score"] > 0 for p in with_prefilter) == 2
    assert with_prefilter[0]["label"] == "sports"  # the prefilter reads the best window's cosine, not the text's start


@pytest.mark.parametrize("kwargs, message", [
    ({"long_text": "first"}, "long_text must be one of"),
    ({"long_text": "max", "window_tokens": 4}, "at least 8"),
    ({"window_tokens": 64}, "applies to long_text 'max' or 'mean'"),
])
def test_bad_window_options(clf, kwargs, message):
    with pytest.raises(ValueError, match=message):
        clf(TEXTS[0], LABELS, **kwargs)
