"""The ranking comparison the parity tests rely on must still catch real differences."""

from __future__ import annotations

import pytest
from ranking import assert_same_ranking

LABELS = ["a", "b", "c"]


def ranked(*pairs):
    return [{"label": label, "score": score} for label, score in pairs]


def test_identical_ranking_passes():
    assert_same_ranking(ranked(("a", 0.5), ("b", 0.3), ("c", 0.2)), LABELS, [0.5, 0.3, 0.2], 1e-5)


def test_near_tie_may_swap():
    assert_same_ranking(ranked(("b", 0.40000002), ("a", 0.4), ("c", 0.2)), LABELS, [0.40000001, 0.4, 0.19999999], 1e-5)


@pytest.mark.parametrize("ours", [
    ranked(("b", 0.5), ("a", 0.3), ("c", 0.2)),     # a real swap, scores far apart
    ranked(("a", 0.5), ("b", 0.31), ("c", 0.19)),   # a score off by more than the tolerance
    ranked(("a", 0.5), ("b", 0.3), ("d", 0.2)),     # a different label
    ranked(("a", 0.5), ("b", 0.3)),                 # a missing label
])
def test_real_differences_fail(ours):
    with pytest.raises(AssertionError):
        assert_same_ranking(ours, LABELS, [0.5, 0.3, 0.2], 1e-5)
