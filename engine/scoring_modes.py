"""Scoring modes as data: each mode's name, what it needs, how it scores a text, and its help text.

``CallOptions`` checks and resolves modes from this table, planning asks it whether a mode makes
NLI pairs, ``results.call_results`` calls its scorer, and the CLI's ``--scoring`` help and the
server's OpenAPI contract quote it. Adding a mode is one ``ScoringMode`` in ``SCORING_MODES`` plus
its scorer (README, "Development").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .defaults import (
    AUTO_MULTI_LABEL_MIN_LABELS,
    DEFAULT_SCORING,
    EMBEDDING_TEMPERATURE,
    HYBRID_LABEL_GATE,
    HYBRID_NLI_WEIGHT,
    MULTI_LABEL_MARGIN,
    MULTI_LABEL_NLI_WEIGHT,
    MULTI_LABEL_TEMPERATURE,
)
from .nli_head import NliHead
from .scoring import (
    aggregate_windows,
    embedder_weight_for_spread,
    embedding_scores,
    hybrid_scores,
    label_scores,
    multi_label_embedding_scores,
    multi_label_hybrid_scores,
    relative_similarity,
    windowed_hybrid_scores,
)


@dataclass(frozen=True)
class TextEvidence:
    """What a scorer reads for one text: the NLI logits of its scored labels in each of its windows
    (windows, scored, classes; one window unless long_text is "max"/"mean"), the positions of those
    labels among the text's own (``scored``), and where the embedder ran, the text's cosine with
    every one of its labels (``similarity``, aggregated over windows), each window's
    (``window_similarity``, (windows, labels), with long_text "max"/"mean") and how alike its
    labels are (``label_spread``, their mean pairwise cosine)."""

    logits: np.ndarray
    scored: np.ndarray
    similarity: np.ndarray | None
    window_similarity: np.ndarray | None
    multi_label: bool
    long_text: str
    head: NliHead
    label_spread: float | None = None

    def text_logits(self) -> np.ndarray:
        """(scored, classes): the windows aggregated per label as long_text says (the pipeline's
        logits when there is one window)."""
        return aggregate_windows(self.logits, self.long_text, self.head)

    def spread(self) -> float:
        """How alike the text's labels are to the embedder; a mode that declares ``uses_embedder`` always has it."""
        if self.label_spread is None:
            raise AssertionError("an embedder mode scored a text the embedder did not read")
        return self.label_spread

    def cosine(self) -> np.ndarray:
        """The text's cosine with each of its labels; a mode that declares ``uses_embedder`` always has it."""
        if self.similarity is None:
            raise AssertionError("an embedder mode scored a text the embedder did not read")
        return self.similarity


@dataclass(frozen=True)
class TextShape:
    """What "auto" may decide on, known before any work: the call's options as they bear on one
    text, and whether the classifier has an embedder."""

    multi_label: bool
    label_count: int  # the text's labels
    narrowed: bool  # a prefilter drops some of the text's labels
    long_text: str
    has_embedder: bool


# Scores for the labels NLI scored (``evidence.scored``), or for all of the text's labels in a mode without NLI.
Scorer = Callable[[TextEvidence], np.ndarray]
# "auto": the mode a text runs, from its shape.
Resolver = Callable[[TextShape], str]


@dataclass(frozen=True)
class ScoringMode:
    """One value of ``scoring``. Exactly one of ``scorer`` and ``resolve`` is set: a mode scores,
    or (as "auto") names, per text and before any work, the mode that does."""

    name: str
    help: str
    uses_nli: bool  # makes NLI pairs (a prefilter narrows them)
    uses_embedder: bool  # reads the text-label cosine
    scorer: Scorer | None = None
    resolve: Resolver | None = None
    auto_prefilter: bool = False  # prefilter_top_k "auto" narrows a long label list (defaults.AUTO_PREFILTER_*)


def _nli(evidence: TextEvidence) -> np.ndarray:
    return label_scores(evidence.text_logits()[None], evidence.head, evidence.multi_label)[0]


def _embedding(evidence: TextEvidence) -> np.ndarray:
    cosine = evidence.cosine()[None]
    if evidence.multi_label:
        return multi_label_embedding_scores(relative_similarity(cosine), MULTI_LABEL_TEMPERATURE, MULTI_LABEL_MARGIN)[0]
    return embedding_scores(cosine, EMBEDDING_TEMPERATURE)[0]


def _hybrid(evidence: TextEvidence) -> np.ndarray:
    # single-label: the embedder's weight follows how far apart it places the text's labels
    weight = 1.0 if evidence.multi_label else embedder_weight_for_spread(evidence.spread(), HYBRID_LABEL_GATE)
    if evidence.window_similarity is not None:  # windows: each window's evidence per label, then max or mean
        return windowed_hybrid_scores(evidence.logits, evidence.window_similarity, evidence.scored, evidence.long_text,
                                      evidence.multi_label, evidence.head, weight)
    if weight == 0.0:  # the embedder has nothing to add: exact NLI, the pipeline's scores to the bit
        return _nli(evidence)
    logits, cosine = evidence.text_logits()[None], evidence.cosine()[None]
    if evidence.multi_label:  # the baseline is the text's whole label set, prefiltered or not
        relative = relative_similarity(cosine)[:, evidence.scored]
        return multi_label_hybrid_scores(logits, evidence.head, relative, MULTI_LABEL_TEMPERATURE, MULTI_LABEL_NLI_WEIGHT,
                                         MULTI_LABEL_MARGIN)[0]
    return hybrid_scores(logits, evidence.head, cosine[:, evidence.scored], EMBEDDING_TEMPERATURE, HYBRID_NLI_WEIGHT, weight)[0]


def _auto(text: TextShape) -> str:
    """With an embedder, the hybrid: in a single-label call its embedder weight set by the labels'
    spread (0, exact NLI, for labels it cannot tell apart), in a multi-label call of at least 2
    labels its calibrated scores. Exact NLI (the pipeline) without an embedder, for a multi-label
    call of one label, and with long_text "mean" (defaults.py says why)."""
    if not text.has_embedder:
        return "nli"
    if text.multi_label:
        return "hybrid" if text.label_count >= AUTO_MULTI_LABEL_MIN_LABELS else "nli"
    return "nli" if text.long_text == "mean" and not text.narrowed else "hybrid"


SCORING_MODES: dict[str, ScoringMode] = {mode.name: mode for mode in (
    ScoringMode("auto", "with an embedder, hybrid (single-label: the embedder weighted by how far apart it places the labels, "
                        "none for near-synonyms; multi-label of 2 labels or more: calibrated), except nli with long_text mean "
                        "and no prefilter; without an embedder, nli",
                uses_nli=True, uses_embedder=False, resolve=_auto, auto_prefilter=True),
    ScoringMode("nli", "the pipeline's scores, exactly", uses_nli=True, uses_embedder=False, scorer=_nli),
    ScoringMode("hybrid", "NLI x text-label embedding similarity (single-label: weighted by the labels' spread; "
                        "multi-label: scored against the text's best label)", uses_nli=True, uses_embedder=True, scorer=_hybrid),
    ScoringMode("embedding", "text-label embedding similarity alone, no NLI pass", uses_nli=False, uses_embedder=True,
                scorer=_embedding),
)}
if DEFAULT_SCORING not in SCORING_MODES:
    raise AssertionError(f"defaults.DEFAULT_SCORING {DEFAULT_SCORING!r} is not a scoring mode")


def scoring_mode(name: str) -> ScoringMode:
    """The mode called ``name`` (CallOptions has checked it)."""
    return SCORING_MODES[name]


def describe_scoring_modes() -> str:
    """"auto: ...; nli: ...": how --help and the OpenAPI contract describe every mode."""
    return "; ".join(f"{mode.name}: {mode.help}" for mode in SCORING_MODES.values())
