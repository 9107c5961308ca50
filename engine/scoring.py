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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


def relative_similarity(similarity: np.ndarray) -> np.ndarray:
    """Each label's cosine minus the mean cosine of the call's other labels (texts, labels): a
    baseline taken from the call itself, so no global threshold has to fit every label set. With
    one label there is nothing to compare with: zeros."""
    count = similarity.shape[1]
    if count < 2:
        return np.zeros_like(similarity, dtype=np.float64)
    others = (similarity.sum(axis=1, keepdims=True) - similarity) / (count - 1)
    return (similarity - others).astype(np.float64)


def multi_label_hybrid_scores(logits: np.ndarray, entailment_id: int, contradiction_id: int, relative: np.ndarray,
                              temperature: float, nli_weight: float) -> np.ndarray:
    """Multi-label scores from both opinions, each label on its own: sigmoid of the NLI log-odds
    (entailment minus contradiction, as the pipeline's multi-label mode) times ``nli_weight`` plus
    the relative cosine over ``temperature``. ``logits`` (texts, labels, classes), ``relative`` (texts, labels)."""
    log_odds = (logits[..., entailment_id] - logits[..., contradiction_id]).astype(np.float64)
    return _sigmoid(nli_weight * log_odds + relative / temperature)


def multi_label_embedding_scores(relative: np.ndarray, temperature: float) -> np.ndarray:
    """Multi-label scores from the relative cosine alone: sigmoid(relative / T)."""
    return _sigmoid(relative / temperature)
