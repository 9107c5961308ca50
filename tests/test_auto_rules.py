"""The call with no knobs and a long label list: scoring "auto" with prefilter_top_k "auto" (both the
defaults) narrows a single-label call of more than 10 labels to the AUTO_PREFILTER_TOP_K labels
the embedder finds most similar and ranks them with the hybrid; everything else stays exact."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zsc.engine import CallOptions, InputError, ZeroShotClassifier
from zsc.engine.defaults import AUTO_PREFILTER_MIN_LABELS, AUTO_PREFILTER_TOP_K

TEXTS = ["The striker scored twice in the cup final.", "Shares slid as the central bank raised rates.",
         "I still have not received my new card.", "A probe photographed the rings of a distant planet."]
MANY = ["sports", "business", "card arrival", "science", "weather", "politics", "music", "cooking", "travel", "health",
        "education", "gaming", "fashion", "law", "religion", "cars", "pets", "movies"]
FEW = MANY[: AUTO_PREFILTER_MIN_LABELS - 1]


@pytest.fixture(scope="module")
def clf():
    return ZeroShotClassifier.default()


def test_ten_labels_or_fewer_stay_the_pipeline(clf):
    assert len(FEW) == 10
    prepared = clf.prepare(TEXTS, FEW)
    assert prepared.chosen is None and prepared.scorings == ["nli"] * len(TEXTS)
    assert clf(TEXTS, FEW) == clf(TEXTS, FEW, scoring="nli", prefilter_top_k=None)


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


@pytest.mark.parametrize("keeps_every_label", [{"prefilter_top_k": None}, {"scoring": "nli"}, {"multi_label": True}])
def test_what_keeps_every_label(clf, keeps_every_label):
    prepared = clf.prepare(TEXTS, MANY, **keeps_every_label)
    assert prepared.chosen is None and len(prepared.pairs) == len(TEXTS) * len(MANY)
    assert set(prepared.scorings) == {"nli"}
    exact = clf(TEXTS, MANY, scoring="nli", prefilter_top_k=None, multi_label=keeps_every_label.get("multi_label", False))
    assert clf(TEXTS, MANY, **keeps_every_label) == exact


def test_a_classifier_without_an_embedder_stays_exact(tiny_exported):
    tiny = ZeroShotClassifier.from_pretrained(tiny_exported("bert"))
    prepared = tiny.prepare(TEXTS, MANY)
    assert prepared.chosen is None and set(prepared.scorings) == {"nli"} and len(prepared.pairs) == len(TEXTS) * len(MANY)


def test_the_rule_is_per_text_and_batch_invariant(clf):
    """Each text follows the rule for its own label count, and its result equals calling it alone."""
    own = [MANY, FEW, MANY[3:17], MANY[:5]]
    together = clf(TEXTS, own)
    prepared = clf.prepare(TEXTS, own)
    assert prepared.scorings == ["hybrid", "nli", "hybrid", "nli"]
    for text, labels, row in zip(TEXTS, own, together):
        assert clf(text, labels) == row
    for mates in ([TEXTS[1], TEXTS[0]], [TEXTS[3], TEXTS[2], TEXTS[0]]):
        assert clf(mates, MANY)[-1] == clf(mates[-1], MANY)


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
