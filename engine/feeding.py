"""Assembling the next batch while the current one runs.

onnxruntime releases the GIL inside a run, so a worker thread can pad and stack the next batch
meanwhile; on a GPU that keeps the device from waiting for the host between runs. On the CPU
the session uses every core, so the classifier runs batches one after another instead
(``Feeding.prefetch``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Prepared = TypeVar("Prepared")


class Prefetcher:
    """One worker thread, shared by the calls of one classifier (threads may call it at once)."""

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
