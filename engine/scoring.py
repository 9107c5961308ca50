"""Pure numpy scoring: transformers' two normalisation modes, stable, and its ranking order."""

from __future__ import annotations

import numpy as np


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def label_scores(logits: np.ndarray, entailment_id: int, contradiction_id: int, multi_label: bool) -> np.ndarray:
    """Scores of shape (texts, labels) from logits of shape (texts, labels, classes).

    Single-label with several labels: softmax over labels of the entailment logit.
    Multi-label, or one label: per label, softmax of [contradiction, entailment], entailment part.
    """
    logits = logits.astype(np.float64)
    if multi_label or logits.shape[1] == 1:
        pair = logits[..., [contradiction_id, entailment_id]]
        return _softmax(pair, axis=-1)[..., 1]
    return _softmax(logits[..., entailment_id], axis=-1)


def ranking(scores: np.ndarray) -> np.ndarray:
    """Indices by descending score; among equal scores the later label comes first (as transformers)."""
    return np.argsort(scores, kind="stable")[::-1]
