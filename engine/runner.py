"""One batch runner for every graph: plan length-sorted batches under the budget, assemble each
one, run it, with the next one assembled on a worker thread meanwhile where the feeding says so.

The classifier (NLI pairs) and the embedder (texts) both run through it; only how a batch's rows
become feeds differs, and that is the caller's ``assemble``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from .batching import BatchBudget
from .feeding import Feeding
from .session import GraphSession

Feeds = dict[str, np.ndarray]
Item = TypeVar("Item")
Prepared = TypeVar("Prepared")


class Prefetcher:
    """One worker thread, shared by the calls of one runner (threads may call it at once).

    onnxruntime releases the GIL inside a run, so the worker can pad and stack the next batch
    meanwhile; on a GPU that keeps the device from waiting for the host between runs. On the CPU
    the session uses every core, so batches run one after another instead (``Feeding.prefetch``).
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsc-prefetch")

    def ahead(self, items: Sequence[Item], prepare: Callable[[Item], Prepared]) -> Iterator[tuple[Item, Prepared]]:
        """Yield ``(item, prepare(item))`` in order, preparing item i+1 while the caller uses item i."""
        if not items:
            return
        pending: Future[Prepared] = self._pool.submit(prepare, items[0])
        for index, item in enumerate(items):
            ready = pending.result()  # an error in prepare surfaces here, for the item it belongs to
            if index + 1 < len(items):
                pending = self._pool.submit(prepare, items[index + 1])
            yield item, ready


class BatchRunner:
    """Runs ``session`` over rows in batches of at most ``feeding.batch_size`` rows and
    ``feeding.max_batch_tokens`` padded tokens (lifted to one padded window of ``max_length``)."""

    def __init__(self, session: GraphSession, feeding: Feeding, max_length: int) -> None:
        self.session, self.feeding = session, feeding
        self.budget = BatchBudget.for_model(feeding, max_length)
        self._prefetcher = Prefetcher() if feeding.prefetch else None

    def run(self, feeds: Feeds) -> np.ndarray:
        """One batch as given: for callers that fill batches themselves under ``budget``."""
        return self.session.run(feeds, self.feeding.io_binding)

    def batches(self, lengths: np.ndarray, assemble: Callable[[np.ndarray, int], Feeds], budget: BatchBudget | None = None
                ) -> Iterator[tuple[np.ndarray, Feeds, np.ndarray]]:
        """``(rows, feeds, output)`` per batch of the rows whose token counts are ``lengths``:
        ``assemble(rows, width)`` builds a batch's feeds padded to ``width`` tokens. ``budget``:
        this call's (a per-call batch size), else the runner's."""
        budget = budget or self.budget
        plan = budget.plan(lengths)

        def feeds_of(rows: np.ndarray) -> Feeds:
            return assemble(rows, budget.padded(int(lengths[rows].max())))

        if self._prefetcher is None or len(plan) < 2:  # one batch: nothing to overlap, no thread hand-off
            for rows in plan:
                feeds = feeds_of(rows)
                yield rows, feeds, self.run(feeds)
            return
        for rows, feeds in self._prefetcher.ahead(plan, feeds_of):
            yield rows, feeds, self.run(feeds)
