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


@dataclass
class PreparedCall:
    """A call from ``ZeroShotClassifier.prepare``, ready for ``logits`` and ``finish``.

    ``labels[i]``: text i's labels as given. ``pairs``: for each text, each of its windows (one
    unless ``long_text`` is "max"/"mean"; ``windows[i]`` of them) x the labels NLI scores: all of
    its labels, or with a prefilter ``chosen[i]`` (positions in ``labels[i]``, most similar first),
    or none with scoring "embedding". ``similarity[i]``: text i's cosine with each of its labels,
    where the embedder ran (with windows: aggregated over them as the NLI logits are);
    ``window_similarity[i]``: each window's, (windows, labels). ``scorings[i]``: the mode text i
    runs (``options.scoring`` resolved for its label count).
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
        if self.chosen is not None:
            return self.chosen[text]
        return np.arange(0 if self.scorings[text] == "embedding" else len(self.labels[text]))

    def pair_blocks(self, logits: np.ndarray) -> list[np.ndarray]:
        """``logits`` of ``pairs`` cut per text, shaped (windows, scored labels, classes)."""
        blocks, start = [], 0
        for i in range(len(self.texts)):
            count = len(self.scored_labels(i))
            windows = self.windows[i] if self.windows is not None else 1
            blocks.append(logits[start : start + windows * count].reshape(windows, count, logits.shape[-1]))
            start += windows * count
        return blocks
