from __future__ import annotations

import numpy as np
import pytest

from zsc.engine.batching import BatchBudget
from zsc.engine.nli_head import NliHead
from zsc.engine.scoring import label_scores, ranking

HEAD = NliHead(entailment_id=2, contradiction_id=0)


def test_single_label_mode_is_softmax_over_entailment():
    logits = np.array([[[0.1, 0.2, 2.0], [0.3, 0.1, 1.0], [1.0, 0.0, -1.0]]], dtype=np.float32)
    scores = label_scores(logits, HEAD, multi_label=False)
    entail = logits[0, :, 2].astype(np.float64)
    assert scores[0] == pytest.approx(np.exp(entail) / np.exp(entail).sum())
    assert scores.sum() == pytest.approx(1.0)


def test_multi_label_and_one_label_use_entailment_vs_contradiction():
    logits = np.array([[[0.5, 9.0, 2.0], [3.0, -9.0, 1.0]]], dtype=np.float32)
    multi = label_scores(logits, HEAD, multi_label=True)
    expected = 1 / (1 + np.exp(-(logits[0, :, 2] - logits[0, :, 0]).astype(np.float64)))
    assert multi[0] == pytest.approx(expected)  # neutral (index 1) ignored
    one = label_scores(logits[:, :1], HEAD, multi_label=False)
    assert one[0, 0] == pytest.approx(expected[0])


def test_scores_are_stable_for_huge_logits():
    logits = np.array([[[0.0, 0.0, 1000.0], [0.0, 0.0, 999.0]]], dtype=np.float32)
    scores = label_scores(logits, HEAD, multi_label=False)
    assert np.isfinite(scores).all()
    assert scores[0] == pytest.approx([1 / (1 + np.exp(-1)), 1 - 1 / (1 + np.exp(-1))])
    multi = label_scores(-logits, HEAD, multi_label=True)
    assert np.isfinite(multi).all()


def test_ranking_descends_and_later_tie_comes_first():
    assert ranking(np.array([0.1, 0.5, 0.1, 0.3])).tolist() == [1, 3, 2, 0]


def test_batches_cover_every_pair_once_within_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 300, size=500)
    batches = BatchBudget(max_batch_size=16, max_batch_tokens=2048).plan(lengths)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(500))
    for batch in batches:
        assert len(batch) <= 16
        assert len(batch) * lengths[batch].max() <= 2048 or len(batch) == 1
    maxima = [lengths[b].max() for b in batches]
    assert maxima == sorted(maxima, reverse=True)  # longest first


def test_batch_plan_rejects_nonsense():
    with pytest.raises(ValueError, match="positive"):
        BatchBudget(0, 10)
