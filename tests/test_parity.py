"""zsc.engine against transformers' zero-shot pipeline (torch), the oracle: labels, order, scores."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import DATA, MINILM
from ranking import assert_same_ranking
from tiny_models import BUILDERS

from zsc.engine import ZeroShotClassifier

TOLERANCE = 1e-5
LONG_TEXT = " ".join(["The committee discussed the budget, the weather and the football results at length."] * 60)
TEXTS = [
    "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!",
    "The striker scored twice in the second half to win the cup.",
    LONG_TEXT,
    "Ünïcödé — naïve café déjà vu 東京 🚀 emojis and accents",
    "?",
]
# A blank text (" ") is classified by transformers but refused by zsc (it says nothing): tests/test_errors.py.
LABELS_4 = ["refund", "legal", "faq", "sports"]


def assert_same(ours, theirs):
    if isinstance(theirs, dict):
        theirs, ours = [theirs], [ours]
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        assert_same_ranking(mine, ref["labels"], ref["scores"], TOLERANCE)


def label_sets():
    yield ["refund"]  # one label: sigmoid-like mode
    yield LABELS_4
    yield [f"topic {i}" for i in range(50)]


@pytest.fixture(scope="module")
def minilm(minilm_fp32):
    return ZeroShotClassifier.from_pretrained(minilm_fp32, provider="cpu")


@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("labels", list(label_sets()), ids=["1", "4", "50"])
def test_minilm_matches_pipeline(minilm, hf_pipeline, labels, multi_label):
    pipe = hf_pipeline(MINILM)
    # The 512-token text is checked with 1 and 4 labels; 50 x 512 tokens in torch would cost CI a minute.
    texts = TEXTS if len(labels) < 50 else [t for t in TEXTS if t is not LONG_TEXT]
    expected = pipe(texts, candidate_labels=labels, multi_label=multi_label)
    assert_same(minilm(texts, labels, multi_label=multi_label), expected)


def test_minilm_single_text_and_template(minilm, hf_pipeline):
    pipe = hf_pipeline(MINILM)
    template = "The topic of this text is {}."
    expected = pipe(TEXTS[0], candidate_labels="refund, legal,faq", hypothesis_template=template)
    ours = minilm(TEXTS[0], "refund, legal,faq", hypothesis_template=template)
    assert isinstance(ours, list) and isinstance(ours[0], dict)
    assert_same(ours, expected)


def test_minilm_real_texts_label_counts(minilm, hf_pipeline):
    """One label (entailment against contradiction), two, odd and even counts, ten."""
    pipe = hf_pipeline(MINILM)
    rows = [json.loads(line) for line in itertools.islice(open(DATA / "zsc/ag_news/test.jsonl"), 8)]
    texts = [r["text"] for r in rows]
    vocabulary = ["world", "sports", "business", "science", "technology", "politics", "health", "money", "weather", "art"]
    for count in (1, 2, 3, 4, 7, 10):
        labels = vocabulary[:count]
        assert_same(minilm(texts, labels), pipe(texts, candidate_labels=labels))


def test_minilm_legacy_shape(minilm, hf_pipeline):
    expected = hf_pipeline(MINILM)(TEXTS[1], candidate_labels=LABELS_4)
    legacy = minilm(TEXTS[1], LABELS_4, legacy=True)
    assert legacy["sequence"] == expected["sequence"]
    as_dicts = [{"label": label, "score": score} for label, score in zip(legacy["labels"], legacy["scores"])]
    assert_same_ranking(as_dicts, expected["labels"], expected["scores"], TOLERANCE)


def test_ties_follow_transformers_order(minilm, hf_pipeline):
    labels = ["sports", "refund", "sports", "refund"]  # duplicates give exactly equal scores
    expected = hf_pipeline(MINILM)(TEXTS[0], candidate_labels=labels)
    assert_same(minilm(TEXTS[0], labels), expected)


def test_batching_does_not_change_results(minilm_fp32):
    small = ZeroShotClassifier.from_pretrained(minilm_fp32, batch_size=1)
    large = ZeroShotClassifier.from_pretrained(minilm_fp32, batch_size=64, max_batch_tokens=100_000)
    a, b = small(TEXTS, LABELS_4), large(TEXTS, LABELS_4)
    for x, y in zip(a, b):
        assert_same_ranking(x, [p["label"] for p in y], [p["score"] for p in y], 1e-6)


@pytest.mark.parametrize("arch", sorted(BUILDERS))
@pytest.mark.parametrize("multi_label", [False, True])
def test_tiny_architectures_match_pipeline(arch, multi_label, tiny_hf, tiny_exported, hf_pipeline):
    pipe = hf_pipeline(tiny_hf(arch))
    classifier = ZeroShotClassifier.from_pretrained(tiny_exported(arch, "none"))
    for labels in label_sets():
        expected = pipe(TEXTS, candidate_labels=labels, multi_label=multi_label)
        assert_same(classifier(TEXTS, labels, multi_label=multi_label), expected)


# The pipeline's call habits (#29): what transformers' own pipeline takes at call time, zsc takes too.

def test_batch_size_and_num_workers_per_call_as_the_pipeline_takes_them(minilm, hf_pipeline):
    pipe = hf_pipeline(MINILM)
    texts = [t for t in TEXTS if t is not LONG_TEXT]
    expected = pipe(texts, candidate_labels=LABELS_4, batch_size=8, num_workers=2)
    for batch_size in (1, 3, 8, 64):
        assert_same(minilm(texts, candidate_labels=LABELS_4, batch_size=batch_size, num_workers=2), expected)


def test_batch_size_sets_the_pairs_of_each_model_run(minilm, monkeypatch):
    runs: list[int] = []
    original = minilm.runner.run
    monkeypatch.setattr(minilm.runner, "run", lambda feeds: runs.append(len(feeds["input_ids"])) or original(feeds))
    minilm(TEXTS[:2], LABELS_4, batch_size=3)
    assert runs == [3, 3, 2]
    runs.clear()
    minilm(TEXTS[:2], LABELS_4)
    assert runs == [8]  # the classifier's own budget again: the call's batch size does not stick


def test_multi_class_is_multi_labels_deprecated_name_with_the_pipelines_warning(minilm, hf_pipeline, caplog):
    import logging

    pipe = hf_pipeline(MINILM)
    expected = pipe(TEXTS[1], candidate_labels=LABELS_4, multi_class=True)
    with caplog.at_level(logging.WARNING, logger="zsc"):
        assert_same(minilm(TEXTS[1], LABELS_4, multi_class=True), expected)
    assert "`multi_class` argument has been deprecated and renamed to `multi_label`" in caplog.text
    assert minilm(TEXTS[1], LABELS_4, multi_class=True) == minilm(TEXTS[1], LABELS_4, multi_label=True)


@pytest.mark.parametrize("keywords, message", [
    ({"top_k": 3}, "unexpected keyword argument 'top_k'; a call takes hypothesis_template, multi_label"),
    ({"candidate_label": ["a"], "temperature": 1}, "unexpected keyword arguments 'candidate_label', 'temperature'"),
])
def test_any_other_keyword_is_a_type_error_naming_it(minilm, keywords, message):
    with pytest.raises(TypeError, match=message) as error:
        minilm(TEXTS[1], LABELS_4, **keywords)
    assert "CallOptions" not in str(error.value)  # no internal names


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-2, ValueError), (2.5, TypeError), (True, TypeError), ("8", TypeError)])
def test_a_bad_batch_size_is_named(minilm, batch_size, error):
    with pytest.raises(error, match="batch_size must be a positive integer"):
        minilm(TEXTS[1], LABELS_4, batch_size=batch_size)
