"""Pure numpy scoring math: transformers' two normalisation modes (stable) and its ranking order,
the embedding and hybrid formulas (over whole texts or their windows), window aggregation and the
prefilter's ordering. Arrays in, arrays out; which mode uses which formula is scoring_modes.py's
table, and ``results.call_results`` applies it to a prepared call.
"""

from __future__ import annotations

import numpy as np

from .defaults import (
    HYBRID_NLI_WEIGHT,
    MULTI_LABEL_MARGIN,
    MULTI_LABEL_NLI_WEIGHT,
    MULTI_LABEL_TEMPERATURE,
    WINDOW_TEMPERATURE,
)
from .nli_head import NliHead

Ranked = tuple[np.ndarray, np.ndarray]  # one text's scores (its labels) and its labels' order, best first


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def label_scores(logits: np.ndarray, head: NliHead, multi_label: bool) -> np.ndarray:
    """Scores of shape (texts, labels) from logits of shape (texts, labels, classes).

    Single-label with several labels: softmax over labels of the entailment logit.
    Multi-label, or one label: per label, softmax of [contradiction, entailment], entailment part.
    """
    if multi_label or logits.shape[1] == 1:
        return _softmax(head.contradiction_entailment(logits), axis=-1)[..., 1]
    return _softmax(head.entailment(logits), axis=-1)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def embedding_scores(similarity: np.ndarray, temperature: float) -> np.ndarray:
    """Single-label scores from text-label cosine similarities (texts, labels): softmax(cos / T)."""
    return _softmax(similarity.astype(np.float64) / temperature, axis=-1)


def hybrid_scores(logits: np.ndarray, head: NliHead, similarity: np.ndarray, temperature: float, nli_weight: float,
                  embedder_weight: float = 1.0) -> np.ndarray:
    """Single-label scores from both opinions: the product of the NLI distribution (raised to
    ``nli_weight``) and the embedding distribution (raised to ``embedder_weight``), renormalised
    over the labels.

    ``logits`` (texts, labels, classes) and ``similarity`` (texts, labels) cover the same labels.
    """
    nli = _log_softmax(head.entailment(logits), axis=-1)
    return _softmax(nli_weight * nli + embedder_weight * similarity.astype(np.float64) / temperature, axis=-1)


def label_spread(label_vectors: np.ndarray) -> float:
    """How alike the embedder finds a call's labels: their mean pairwise cosine (unit vectors,
    (labels, dim)); 0.0 with fewer than two labels. The pairs' sum is |sum of the vectors|^2 less
    each vector's own |v|^2, so a call of a thousand labels costs one pass over them, not a
    thousand-by-thousand product for every text."""
    count = len(label_vectors)
    if count < 2:
        return 0.0
    vectors = label_vectors.astype(np.float64)
    total = vectors.sum(axis=0)
    return float((total @ total - np.einsum("ij,ij->", vectors, vectors)) / (count * count - count))


def embedder_weight_for_spread(spread: float, gate: tuple[float, float]) -> float:
    """The embedder's weight in the single-label hybrid: 1 while the labels' mean pairwise cosine
    is at most ``gate[0]``, 0 from ``gate[1]`` on, linear between. Labels the embedder places close
    together (antonyms, negations: "positive"/"negative", "spam"/"not spam") leave its cosine
    little to tell them apart by."""
    low, high = gate
    return float(np.clip((high - spread) / (high - low), 0.0, 1.0))


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


def multi_label_hybrid_scores(logits: np.ndarray, head: NliHead, relative: np.ndarray, temperature: float,
                              nli_weight: float, margin: float) -> np.ndarray:
    """Multi-label scores from both opinions: each label's evidence (``hybrid_evidence``) measured
    against the text's best label's (``best_relative``). ``logits`` (texts, labels, classes), ``relative`` (texts, labels)."""
    return best_relative(hybrid_evidence(logits, head, relative, temperature, nli_weight), margin)


def hybrid_evidence(logits: np.ndarray, head: NliHead, relative: np.ndarray, temperature: float, nli_weight: float) -> np.ndarray:
    """Each label's evidence on its own: ``nli_weight`` x NLI log-odds + relative cosine /
    ``temperature``, per (text or window, label); the multi-label hybrid's before it is calibrated."""
    return nli_weight * head.log_odds(logits) + relative / temperature


def best_relative(evidence: np.ndarray, margin: float) -> np.ndarray:
    """Multi-label scores that mean the same on every label set: sigmoid(evidence - the text's best
    evidence + ``margin``) per (text, label). The best label scores sigmoid(margin), a label
    ``margin`` behind it 0.5; a baseline from the text's own labels, so one text's scores never
    depend on another's. With one label there is no best to be near: sigmoid(evidence) alone.
    ``evidence`` (texts, labels)."""
    if evidence.shape[-1] < 2:
        return _sigmoid(evidence)
    return _sigmoid(evidence - evidence.max(axis=-1, keepdims=True) + margin)


def multi_label_embedding_scores(relative: np.ndarray, temperature: float, margin: float) -> np.ndarray:
    """Multi-label scores from the relative cosine alone, calibrated as the hybrid's (``best_relative``)."""
    return best_relative(relative / temperature, margin)


def aggregate_windows(block: np.ndarray, long_text: str, head: NliHead) -> np.ndarray:
    """One text's logits (windows, labels, classes) as (labels, classes): per label, the row of the
    window with the highest entailment logit ("max"), or the mean over windows ("mean")."""
    if block.shape[0] == 1:
        return block[0]
    if long_text == "max":
        best = head.entailment(block).argmax(axis=0)
        return block[best, np.arange(block.shape[1])]
    return block.mean(axis=0)


def aggregate_similarity(window_similarity: np.ndarray, long_text: str) -> np.ndarray:
    """One text's cosine per label from its windows' (windows, labels): the best window's ("max")
    or the mean ("mean"), what the prefilter and the embedding mode read."""
    return window_similarity.max(axis=0) if long_text == "max" else window_similarity.mean(axis=0)


def windowed_hybrid_scores(block: np.ndarray, window_similarity: np.ndarray, scored: np.ndarray, long_text: str,
                           multi_label: bool, head: NliHead, embedder_weight: float = 1.0) -> np.ndarray:
    """The hybrid over a text's windows: each window's evidence for each label on its own, NLI
    log-odds (entailment against contradiction) plus the window's cosine with the label relative to
    its cosine with the call's other labels, over T; then per label the best window ("max") or the
    mean ("mean"); a softmax over the labels (single-label) or, per label, against the best label (multi-label, ``best_relative``).

    The log-odds judge every (window, label) pair alone: a window that entails no label does not
    have to hand the labels' probability to one of them, as a softmax over the labels within each
    window would, and the relative cosine discounts a window a little like every label (one
    on-topic sentence in ~650 words of unrelated text: ``make bench-long``).
    ``block`` (windows, scored labels, classes); ``window_similarity`` (windows, all the text's labels);
    ``embedder_weight`` scales the cosine term (single-label: ``embedder_weight_for_spread``).
    """
    temperature = MULTI_LABEL_TEMPERATURE if multi_label else WINDOW_TEMPERATURE
    weight = MULTI_LABEL_NLI_WEIGHT if multi_label else HYBRID_NLI_WEIGHT
    evidence = hybrid_evidence(block, head, embedder_weight * relative_similarity(window_similarity)[:, scored], temperature, weight)
    combined = evidence.max(axis=0) if long_text == "max" else evidence.mean(axis=0)
    return best_relative(combined, MULTI_LABEL_MARGIN) if multi_label else _softmax(combined, axis=-1)


def prefiltered_order(part: np.ndarray, chosen: np.ndarray, similarity: np.ndarray) -> Ranked:
    """Scores and order over all of a text's labels when NLI scored only ``chosen``: the others
    score 0.0 and follow the scored ones, most similar first."""
    scores = np.zeros(len(similarity))
    scores[chosen] = part
    by_similarity = np.argsort(-similarity, kind="stable")
    rest = by_similarity[~np.isin(by_similarity, chosen)]
    return scores, np.concatenate([chosen[ranking(part)], rest])
