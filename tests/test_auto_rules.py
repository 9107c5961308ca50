"""The call with no knobs: scoring "auto" with prefilter_top_k "auto" (both the defaults), on a
classifier with an embedder, narrows a single-label call of more than 10 labels to the
AUTO_PREFILTER_TOP_K labels the embedder finds most similar and ranks them with the hybrid; a
single-label call of at most 10 labels runs the hybrid over every label, the embedder weighted by
how far apart it places the labels (none, so exactly the pipeline, for near-synonyms); a
multi-label call of 2 labels or more scores every label with the calibrated hybrid.
scoring="nli" is the pipeline always."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from zsc.engine import CallOptions, InputError, ZeroShotClassifier
from zsc.engine.defaults import (
    AUTO_MULTI_LABEL_MIN_LABELS,
    AUTO_PREFILTER_MIN_LABELS,
    AUTO_PREFILTER_TOP_K,
    EMBEDDING_TEMPERATURE,
    HYBRID_LABEL_GATE,
    MULTI_LABEL_MARGIN,
)
from zsc.engine.loading import default_model_path
from zsc.engine.scoring import embedder_weight_for_spread

TEXTS = ["The striker scored twice in the cup final.", "Shares slid as the central bank raised rates.",
         "I still have not received my new card.", "A probe photographed the rings of a distant planet."]
MANY = ["sports", "business", "card arrival", "science", "weather", "politics", "music", "cooking", "travel", "health",
        "education", "gaming", "fashion", "law", "religion", "cars", "pets", "movies"]
FEW = MANY[: AUTO_PREFILTER_MIN_LABELS - 1]


@pytest.fixture(scope="module")
def clf():
    return ZeroShotClassifier.default()


def test_ten_labels_or_fewer_are_all_scored_by_the_hybrid(clf):
    assert len(FEW) == 10
    prepared = clf.prepare(TEXTS, FEW)
    assert prepared.chosen is None and prepared.scorings == ["hybrid"] * len(TEXTS) and len(prepared.pairs) == len(TEXTS) * len(FEW)
    assert clf(TEXTS, FEW) == clf(TEXTS, FEW, scoring="hybrid", prefilter_top_k=None)


def test_scoring_nli_is_the_model_without_its_embedder(clf):
    """scoring="nli" ignores the embedder: the same scores as the model alone, whose default call is
    the pipeline's (tests/test_parity.py holds zsc's fp32 export to transformers' pipeline)."""
    alone = ZeroShotClassifier.from_pretrained(default_model_path())
    for multi_label in (False, True):
        assert clf(TEXTS, FEW, scoring="nli", multi_label=multi_label) == alone(TEXTS, FEW, multi_label=multi_label)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("labels", [["sports", "business", "science"], ["positive", "negative"], ["good", "bad"]])
def test_the_embedders_weight_is_set_per_call_by_the_labels_spread(clf, labels):
    """log p = log p_nli + lambda * cos / T, lambda from the labels' mean pairwise cosine."""
    vectors = clf.embedder.embed(labels).astype(np.float64)
    pairwise = vectors @ vectors.T
    spread = (pairwise.sum() - np.trace(pairwise)) / (len(labels) ** 2 - len(labels))
    low, high = HYBRID_LABEL_GATE
    weight = min(1.0, max(0.0, (high - spread) / (high - low)))
    assert clf.prepare(TEXTS, labels).label_spread == pytest.approx([spread] * len(TEXTS), abs=1e-6)
    assert embedder_weight_for_spread(spread, HYBRID_LABEL_GATE) == pytest.approx(weight)
    logits = clf.logits(clf.prepare(TEXTS, labels, scoring="nli").pairs).reshape(len(TEXTS), len(labels), -1)
    entailment = logits[..., clf.entailment_id].astype(np.float64)
    log_nli = np.log(softmax(entailment))
    cosine = clf.embedder.embed(TEXTS).astype(np.float64) @ vectors.T
    expected = softmax(log_nli + weight * cosine / EMBEDDING_TEMPERATURE)
    for row, want in zip(clf(TEXTS, labels), expected):
        got = {p["label"]: p["score"] for p in row}
        assert [got[label] for label in labels] == pytest.approx(want, abs=1e-6)


def test_labels_the_embedder_cannot_tell_apart_get_exactly_the_pipeline(clf):
    labels = ["spam", "not spam"]  # a negation: the embedder places them 0.83 apart, past the gate
    vectors = clf.embedder.embed(labels)
    assert float(vectors[0] @ vectors[1]) >= HYBRID_LABEL_GATE[1]
    assert clf.prepare(TEXTS, labels).scorings == ["hybrid"] * len(TEXTS)
    assert clf(TEXTS, labels) == clf(TEXTS, labels, scoring="nli")  # lambda = 0: the pipeline's scores, to the bit


def test_the_gate_is_one_below_its_low_end_and_zero_past_its_high_end():
    low, high = HYBRID_LABEL_GATE
    assert embedder_weight_for_spread(low - 0.1, HYBRID_LABEL_GATE) == embedder_weight_for_spread(low, HYBRID_LABEL_GATE) == 1.0
    assert embedder_weight_for_spread(high, HYBRID_LABEL_GATE) == embedder_weight_for_spread(high + 0.1, HYBRID_LABEL_GATE) == 0.0
    assert embedder_weight_for_spread((low + high) / 2, HYBRID_LABEL_GATE) == pytest.approx(0.5)


def test_more_than_ten_labels_are_narrowed_to_k_and_ranked_by_the_hybrid(clf):
    prepared = clf.prepare(TEXTS, MANY)
    assert prepared.scorings == ["hybrid"] * len(TEXTS)
    assert [len(chosen) for chosen in prepared.chosen] == [AUTO_PREFILTER_TOP_K] * len(TEXTS)
    assert len(prepared.pairs) == len(TEXTS) * AUTO_PREFILTER_TOP_K  # not len(TEXTS) * 18
    default = clf(TEXTS, MANY)
    assert default == clf(TEXTS, MANY, prefilter_top_k=AUTO_PREFILTER_TOP_K)  # the same as asking for it
    for row in default:  # every label is returned; those outside the K score 0.0, after the K
        assert sorted(p["label"] for p in row) == sorted(MANY)
        assert all(p["score"] == 0.0 for p in row[AUTO_PREFILTER_TOP_K:]) and row[0]["score"] > 0


@pytest.mark.parametrize("keeps_every_label, mode", [({"prefilter_top_k": None}, "hybrid"), ({"scoring": "nli"}, "nli")])
def test_what_keeps_every_label(clf, keeps_every_label, mode):
    prepared = clf.prepare(TEXTS, MANY, **keeps_every_label)
    assert prepared.chosen is None and len(prepared.pairs) == len(TEXTS) * len(MANY)
    assert set(prepared.scorings) == {mode}
    assert clf(TEXTS, MANY, **keeps_every_label) == clf(TEXTS, MANY, scoring=mode, prefilter_top_k=None)


@pytest.mark.parametrize("labels", [FEW[:2], FEW, MANY], ids=["2 labels", "10 labels", "18 labels"])
def test_a_multi_label_call_scores_every_label_with_the_calibrated_hybrid(clf, labels):
    assert AUTO_MULTI_LABEL_MIN_LABELS == 2
    prepared = clf.prepare(TEXTS, labels, multi_label=True)
    assert prepared.chosen is None and len(prepared.pairs) == len(TEXTS) * len(labels)  # never narrowed
    assert prepared.scorings == ["hybrid"] * len(TEXTS)
    default = clf(TEXTS, labels, multi_label=True)
    assert default == clf(TEXTS, labels, multi_label=True, scoring="hybrid", prefilter_top_k=None)
    best = 1 / (1 + np.exp(-MULTI_LABEL_MARGIN))  # each text's best label; 0.5 is MARGIN behind it
    assert all(row[0]["score"] == pytest.approx(best, abs=1e-9) for row in default)
    assert clf(TEXTS, labels, multi_label=True, scoring="nli") == clf(TEXTS, labels, multi_label=True, scoring="nli", prefilter_top_k=None)


def test_a_multi_label_call_of_one_label_stays_the_pipeline(clf):
    assert clf.prepare(TEXTS, MANY[:1], multi_label=True).scorings == ["nli"] * len(TEXTS)
    assert clf(TEXTS, MANY[:1], multi_label=True) == clf(TEXTS, MANY[:1], multi_label=True, scoring="nli")


def test_a_classifier_without_an_embedder_stays_exact(tiny_exported):
    tiny = ZeroShotClassifier.from_pretrained(tiny_exported("bert"))
    for multi_label in (False, True):
        prepared = tiny.prepare(TEXTS, MANY, multi_label=multi_label)
        assert prepared.chosen is None and set(prepared.scorings) == {"nli"} and len(prepared.pairs) == len(TEXTS) * len(MANY)


def test_the_rule_is_per_text_and_batch_invariant(clf):
    """Each text follows the rule for its own label count, and its result equals calling it alone."""
    own = [MANY, FEW, MANY[3:17], ["positive", "negative"]]
    together = clf(TEXTS, own)
    prepared = clf.prepare(TEXTS, own)
    assert prepared.scorings == ["hybrid"] * 4 and [len(c) for c in prepared.chosen] == [AUTO_PREFILTER_TOP_K, 10, AUTO_PREFILTER_TOP_K, 2]
    assert len(set(prepared.label_spread)) == 4  # each text's own labels set its embedder weight
    for text, labels, row in zip(TEXTS, own, together):
        assert clf(text, labels) == row
    for mates in ([TEXTS[1], TEXTS[0]], [TEXTS[3], TEXTS[2], TEXTS[0]]):
        assert clf(mates, MANY)[-1] == clf(mates[-1], MANY)
    # multi-label: the baseline is each text's own best label, never another text's
    own = [MANY, FEW, MANY[:1], FEW[:2]]
    together = clf(TEXTS, own, multi_label=True)
    assert clf.prepare(TEXTS, own, multi_label=True).scorings == ["hybrid", "hybrid", "nli", "hybrid"]
    for text, labels, row in zip(TEXTS, own, together):
        assert clf(text, labels, multi_label=True) == row
    for mates in ([TEXTS[1], TEXTS[0]], [TEXTS[3], TEXTS[2], TEXTS[0]]):
        assert clf(mates, FEW, multi_label=True)[-1] == clf(mates[-1], FEW, multi_label=True)


def test_the_option_values(clf):
    assert CallOptions().prefilter_top_k == "auto" and CallOptions.of(prefilter_top_k=None).prefilter_top_k is None
    assert CallOptions().top_k(len(MANY)) == AUTO_PREFILTER_TOP_K and CallOptions().top_k(len(MANY), embedder=False) is None
    assert CallOptions.of(scoring="hybrid").top_k(len(MANY)) is None  # the rule is scoring auto's
    for bad in ("AUTO", "ten", ""):
        with pytest.raises(InputError, match="prefilter_top_k must be 'auto', null or a positive integer, got str"):
            clf(TEXTS[0], MANY, prefilter_top_k=bad)
    assert CallOptions.of(scoring="embedding").prefilter_top_k == "auto"  # the default is no conflict with embedding


@pytest.mark.parametrize("flag, expected", [("none", None), ("auto", "auto"), ("7", 7)])
def test_the_command_line_flag(flag, expected):
    from zsc.engine.cli import build_parser

    args = build_parser().parse_args(["classify", "x", "-l", "a,b", "--prefilter-top-k", flag])
    assert args.prefilter_top_k == expected


def test_a_bad_flag_value_is_a_message():
    result = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", "x", "-l", "a,b", "--prefilter-top-k", "many"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "expected a number, auto or none, got 'many'" in result.stderr
