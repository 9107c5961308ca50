"""Batch budgets: how many pairs go into one onnxruntime run.

One rule serves every caller: a batch holds at most ``max_batch_size`` pairs and at most
``max_batch_tokens`` padded tokens (rows x longest row). ``ZeroShotClassifier.logits`` plans a
call's pairs with it; the server's batcher fills batches from its queue with the same budget,
so there is one batching layer whichever way pairs arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .feeding import Feeding


@dataclass(frozen=True)
class BatchBudget:
    max_batch_size: int
    max_batch_tokens: int
    # Batches are padded to a multiple of this (length buckets): on a GPU, fewer distinct shapes
    # to pick kernels and allocate for; 1 on the CPU, where every padded token costs compute.
    pad_multiple: int = 1

    def __post_init__(self) -> None:
        if self.max_batch_size < 1 or self.max_batch_tokens < 1 or self.pad_multiple < 1:
            raise ValueError("batch_size, max_batch_tokens and pad_multiple must be positive")

    def padded(self, longest: int) -> int:
        """The width a batch whose longest row has ``longest`` tokens is padded to."""
        return -(-max(longest, 1) // self.pad_multiple) * self.pad_multiple

    def capacity(self, longest: int) -> int:
        """Rows a batch may hold when its longest row has ``longest`` tokens (at least one, so a
        row longer than the token budget still runs, alone)."""
        return max(1, min(self.max_batch_size, self.max_batch_tokens // self.padded(longest)))

    @classmethod
    def for_model(cls, feeding: Feeding, max_length: int) -> BatchBudget:
        """The budget of ``feeding``, its token budget lifted to one padded window of the model:
        a budget below it would run every long row alone. ValueError for nonsense sizes."""
        budget = cls(feeding.batch_size, feeding.max_batch_tokens, feeding.pad_multiple)
        return cls(budget.max_batch_size, max(budget.max_batch_tokens, budget.padded(max_length)), budget.pad_multiple)

    def plan(self, lengths: np.ndarray) -> list[np.ndarray]:
        """Group row indices into batches, longest first, each padded size within the budget.

        Sorting across every text of a call puts pairs of similar length together, so padding
        (and wasted compute) stays small; the budget keeps memory flat whatever the lengths.
        """
        order = np.argsort(-lengths, kind="stable")
        batches: list[np.ndarray] = []
        start = 0
        while start < len(order):
            rows = self.capacity(int(lengths[order[start]]))
            batches.append(order[start : start + rows])
            start += rows
        return batches

