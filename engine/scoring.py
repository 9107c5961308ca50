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


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def embedding_scores(similarity: np.ndarray, temperature: float) -> np.ndarray:
    """Single-label scores from text-label cosine similarities (texts, labels): softmax(cos / T)."""
    return _softmax(similarity.astype(np.float64) / temperature, axis=-1)


def hybrid_scores(logits: np.ndarray, entailment_id: int, similarity: np.ndarray, temperature: float, nli_weight: float) -> np.ndarray:
    """Single-label scores from both opinions: the product of the NLI distribution (raised to
    ``nli_weight``) and the embedding distribution, renormalised over the labels.

    ``logits`` (texts, labels, classes) and ``similarity`` (texts, labels) cover the same labels.
    """
    nli = _log_softmax(logits[..., entailment_id].astype(np.float64), axis=-1)
    return _softmax(nli_weight * nli + similarity.astype(np.float64) / temperature, axis=-1)


def ranking(scores: np.ndarray) -> np.ndarray:
    """Indices by descending score; among equal scores the later label comes first (as transformers)."""
    return np.argsort(scores, kind="stable")[::-1]
