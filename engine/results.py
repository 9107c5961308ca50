"""A prepared call's logits → each text's scores and label order, by its scoring mode's scorer."""

from __future__ import annotations

import numpy as np

from .nli_head import NliHead
from .plan import PreparedCall
from .scoring import Ranked, prefiltered_order, ranking
from .scoring_modes import TextEvidence, scoring_mode


def call_results(prepared: PreparedCall, logits: np.ndarray, head: NliHead) -> list[Ranked]:
    """Each text's scores (over its labels) and label order, from the logits of ``prepared.pairs``."""
    results = []
    for i, block in enumerate(prepared.pair_blocks(logits)):
        similarity = prepared.similarity[i] if prepared.similarity is not None else None
        evidence = TextEvidence(block, prepared.scored_labels(i), similarity,
                                prepared.window_similarity[i] if prepared.window_similarity is not None else None,
                                prepared.multi_label, prepared.long_text, head,
                                prepared.label_spread[i] if prepared.label_spread is not None else None)
        scorer = scoring_mode(prepared.scorings[i]).scorer
        if scorer is None:
            raise AssertionError(f"scoring {prepared.scorings[i]!r} was not resolved before planning")
        part = scorer(evidence)
        if prepared.chosen is not None and similarity is not None:
            results.append(prefiltered_order(part, prepared.chosen[i], similarity))
        else:
            results.append((part, ranking(part)))
    return results
