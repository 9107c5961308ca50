"""Length-sorted batches under a token budget, so padding (and wasted compute) stays small."""

from __future__ import annotations

import numpy as np


def plan_batches(lengths: np.ndarray, max_batch_size: int, max_batch_tokens: int) -> list[np.ndarray]:
    """Group pair indices into batches, longest first, each padded size within the token budget.

    Sorting across every text of a call puts pairs of similar length together; the budget
    (rows x longest row) keeps memory flat whatever the input lengths are.
    """
    if max_batch_size < 1 or max_batch_tokens < 1:
        raise ValueError("max_batch_size and max_batch_tokens must be positive")
    order = np.argsort(-lengths, kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    total = len(order)
    while start < total:
        longest = int(lengths[order[start]])
        rows = max(1, min(max_batch_size, max_batch_tokens // max(longest, 1)))
        batches.append(order[start : start + rows])
        start += rows
    return batches
