"""Scoring modes are data (zsc.engine.scoring_modes): options, planning, scoring, the CLI's help
and the OpenAPI contract all read one table, so a new mode is one entry plus its scorer."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from zsc.engine import InputError, ZeroShotClassifier
from zsc.engine.cli import build_parser
from zsc.engine.options import CallOptions
from zsc.engine.scoring import ranking
from zsc.engine.scoring_modes import SCORING_MODES, ScoringMode, TextEvidence, describe_scoring_modes
from zsc.engine.server.openapi import openapi_contract

ENGINE = Path(__file__).resolve().parents[1] / "engine"
TEXTS = ["The striker scored twice in the cup final.", "Shares slid as the central bank raised rates."]
LABELS = ["sports", "business", "science", "cooking"]


@pytest.fixture(scope="module")
def clf():
    return ZeroShotClassifier.default()


def test_every_mode_either_scores_or_resolves():
    for mode in SCORING_MODES.values():
        assert (mode.scorer is None) != (mode.resolve is None), mode.name
        assert mode.help and (mode.uses_nli or mode.uses_embedder), mode.name


def scoring_flag():
    """`zsc classify --scoring` as the parser declares it now."""
    return next(a for a in build_parser()._subparsers._group_actions[0].choices["classify"]._actions if "--scoring" in a.option_strings)


def test_the_cli_and_the_openapi_contract_quote_the_table():
    scoring = scoring_flag()
    assert list(scoring.choices) == list(SCORING_MODES)
    assert scoring.help.startswith(describe_scoring_modes())
    request, _, _ = openapi_contract()
    described = request["content"]["application/json"]["schema"]["properties"]["parameters"]["properties"]["scoring"]
    assert described["enum"] == list(SCORING_MODES) and describe_scoring_modes() in described["description"]
    for mode in SCORING_MODES.values():
        assert f"{mode.name}: {mode.help}" in described["description"]


def test_no_module_but_the_table_compares_mode_names():
    """A mode's properties live in its entry: nothing else asks `scoring == "hybrid"`."""
    pattern = re.compile(r"""(scoring|scorings\[\w+\]|mode)\s*[!=]=\s*["'](auto|nli|hybrid|embedding)["']""")
    offenders = [str(path.relative_to(ENGINE)) for path in ENGINE.rglob("*.py")
                 if path.name != "scoring_modes.py" and pattern.search(path.read_text())]
    assert offenders == []


def test_a_new_mode_is_one_entry_plus_its_scorer(clf, monkeypatch):
    """The README's worked example: a mode that sharpens the pipeline's entailment softmax. Once
    registered, options accept it, planning makes its pairs and the call scores with it."""
    def sharp_nli(evidence: TextEvidence) -> np.ndarray:
        entail = evidence.head.entailment(evidence.text_logits()) * 2.0
        exp = np.exp(entail - entail.max())
        return exp / exp.sum()

    monkeypatch.setitem(SCORING_MODES, "sharp", ScoringMode("sharp", "the pipeline's softmax at temperature 1/2",
                                                            uses_nli=True, uses_embedder=False, scorer=sharp_nli))
    result = clf(TEXTS, LABELS, scoring="sharp")
    logits = clf.logits(clf.prepare(TEXTS, LABELS, scoring="nli").pairs).reshape(len(TEXTS), len(LABELS), -1)
    for row, text_logits in zip(result, logits):
        entail = 2.0 * text_logits[:, clf.entailment_id].astype(np.float64)
        expected = np.exp(entail - entail.max()) / np.exp(entail - entail.max()).sum()
        assert [p["label"] for p in row] == [LABELS[i] for i in ranking(expected)]
        assert [p["score"] for p in row] == pytest.approx(sorted(expected, reverse=True), abs=1e-6)
    assert "sharp" in scoring_flag().choices


def test_a_mode_without_nli_makes_no_pairs_and_refuses_a_prefilter(clf):
    assert len(clf.prepare(TEXTS, LABELS, scoring="embedding").pairs) == 0
    with pytest.raises(InputError, match="prefilter_top_k narrows the labels NLI scores; scoring 'embedding' runs no NLI"):
        clf(TEXTS, LABELS, scoring="embedding", prefilter_top_k=2)
    with pytest.raises(InputError, match="prefilter_top_k"):
        CallOptions.of(scoring="embedding", prefilter_top_k=2)
