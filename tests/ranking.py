"""Comparing two rankings of labels whose scores come from different float kernels."""

from __future__ import annotations

from collections.abc import Sequence


def assert_same_ranking(ours: Sequence[dict], labels: Sequence[str], scores: Sequence[float], tolerance: float) -> None:
    """`ours` ([{"label", "score"}]) must rank the reference `labels`/`scores` the same way.

    Each label keeps its reference score within `tolerance`, and the order is the reference
    order wherever the scores differ by more than the tolerance. Two labels whose reference
    scores lie within the tolerance of each other may swap: another CPU, thread count or batch
    shape rounds differently, and the order of a near-tie is then decided by rounding noise.
    """
    assert len(ours) == len(labels) == len(scores), (len(ours), len(labels), len(scores))
    assert sorted(p["label"] for p in ours) == sorted(labels)
    reference: dict[str, list[float]] = {}
    for label, score in zip(labels, scores):
        reference.setdefault(label, []).append(score)
    for position, (mine, want_label, want_score) in enumerate(zip(ours, labels, scores)):
        where = f"position {position}: ours {mine}, reference {want_label!r} {want_score}"
        assert abs(mine["score"] - want_score) <= tolerance, where
        if mine["label"] != want_label:
            own_scores = reference[mine["label"]]
            assert any(abs(s - want_score) <= tolerance for s in own_scores), f"order differs beyond a near-tie at {where}"
