"""PreparedCall: what a validated, tokenised call will compute, and how its results fit together.

A call is texts, each with its own labels (the same list for every text in the pipeline's
shape), and options. Its NLI work is one flat PairSet, text-major, then window, then label; pairs
of several calls may be merged, computed together and split again, since no pair's logits depend
on its batch-mates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .encoding import PairSet
from .options import CallOptions
from .scoring_modes import scoring_mode


@dataclass(frozen=True)
class PreparedCall:
    """A call from ``ZeroShotClassifier.prepare``, ready for ``logits`` and ``finish``.

    ``labels[i]``: text i's labels as given. ``pairs``: for each text, each of its windows (one
    unless ``long_text`` is "max"/"mean"; ``windows[i]`` of them) x the labels NLI scores: all of
    its labels, or with a prefilter ``chosen[i]`` (positions in ``labels[i]``, most similar first),
    or none with scoring "embedding". ``similarity[i]``: text i's cosine with each of its labels,
    where the embedder ran (with windows: aggregated over them as the NLI logits are);
    ``window_similarity[i]``: each window's, (windows, labels). ``label_spread[i]``: the mean
    pairwise cosine of text i's labels (``scoring.label_spread``), where the embedder ran.
    ``scorings[i]``: the mode text i runs (``options.scoring`` resolved for its label count).
    Built whole by ``ZeroShotClassifier.prepare`` (``scored_labels`` decides the pairs before they
    exist, so ``pairs`` is the one field that follows the others); frozen after.
    """

    texts: list[str]
    labels: list[list[str]]
    options: CallOptions
    scorings: list[str]
    single_text: bool
    pairs: PairSet
    chosen: list[np.ndarray] | None = None
    similarity: list[np.ndarray] | None = None
    windows: list[int] | None = None
    window_similarity: list[np.ndarray] | None = None
    label_spread: list[float] | None = None

    @property
    def multi_label(self) -> bool:
        return self.options.multi_label

    @property
    def long_text(self) -> str:
        return self.options.long_text

    @property
    def scoring(self) -> str:
        """The mode the call's texts run, or "per-text" where their label counts resolve "auto" differently."""
        modes = set(self.scorings)
        return modes.pop() if len(modes) == 1 else "per-text"

    def scored_labels(self, text: int) -> np.ndarray:
        """Positions in ``labels[text]`` that NLI scores, in pair order."""
        return scored_positions(len(self.labels[text]), self.scorings[text], self.chosen[text] if self.chosen is not None else None)

    def pair_blocks(self, logits: np.ndarray) -> list[np.ndarray]:
        """``logits`` of ``pairs`` cut per text, shaped (windows, scored labels, classes)."""
        blocks, start = [], 0
        for i in range(len(self.texts)):
            count = len(self.scored_labels(i))
            windows = self.windows[i] if self.windows is not None else 1
            blocks.append(logits[start : start + windows * count].reshape(windows, count, logits.shape[-1]))
            start += windows * count
        return blocks


def scored_positions(label_count: int, scoring: str, chosen: np.ndarray | None) -> np.ndarray:
    """The positions among a text's ``label_count`` labels that NLI scores, in pair order: the
    prefilter's ``chosen``, or all of them, or none in a mode without NLI."""
    if chosen is not None:
        return chosen
    return np.arange(label_count if scoring_mode(scoring).uses_nli else 0)
