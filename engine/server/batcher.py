"""Merge concurrent requests for one model into shared onnxruntime batches, off the event loop.

Each request is cut into chunks of at most ``max_batch_pairs`` pairs and submits them one after
another, so a huge request takes turns with the others instead of holding the model. The queue
is bounded in pairs (backpressure: a full queue refuses new work at once), and jobs whose
request was abandoned (client gone) are dropped before they are computed. Scores do not depend
on how jobs are merged: the shipped precisions are batch-invariant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..classifier import ZeroShotClassifier
from ..encoding import PairSet


class QueueFull(Exception):
    """The model's queue holds too many pairs; the server answers 503 with Retry-After."""


@dataclass
class _Job:
    pairs: PairSet
    future: asyncio.Future


class MicroBatcher:
    def __init__(self, classifier: ZeroShotClassifier, max_batch_pairs: int, max_wait_ms: float, enabled: bool = True,
                 max_queue_pairs: int | None = None, on_batch: Callable[[int, int], None] | None = None):
        self.classifier = classifier
        self.max_batch_pairs = max(1, max_batch_pairs)
        self.max_wait = max(0.0, max_wait_ms) / 1000
        self.enabled = enabled
        self.max_queue_pairs = max_queue_pairs
        self.queued_pairs = 0  # admitted and not yet finished, for backpressure and metrics
        self.on_batch = on_batch  # (pairs, tokens) of each batch handed to the engine, for metrics
        # One inference thread per model: onnxruntime already uses every core inside a run.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsc-infer")
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def logits(self, pairs: PairSet) -> np.ndarray:
        """Logits for ``pairs``, computed in batches shared with concurrent requests.

        Raises QueueFull at once when admitting the pairs would take a non-empty queue past
        ``max_queue_pairs``.
        Cancelling the caller (a client that went away) drops its chunks still in the queue.
        """
        # An empty queue admits any request, so one larger than the bound still gets served.
        if self.max_queue_pairs is not None and self.queued_pairs and self.queued_pairs + len(pairs) > self.max_queue_pairs:
            raise QueueFull(f"{self.queued_pairs} pairs are queued; the limit is {self.max_queue_pairs}")
        loop = asyncio.get_running_loop()
        parts = []
        self.queued_pairs += len(pairs)
        remaining = len(pairs)
        try:
            for start in range(0, len(pairs), self.max_batch_pairs):
                chunk = pairs.take(np.arange(start, min(start + self.max_batch_pairs, len(pairs))))
                if not self.enabled:
                    self._observe(chunk)
                    parts.append(await loop.run_in_executor(self.executor, self.classifier.logits, chunk))
                else:
                    job = _Job(chunk, loop.create_future())
                    self.queue.put_nowait(job)
                    parts.append(await job.future)
                self.queued_pairs -= len(chunk)
                remaining -= len(chunk)
        finally:
            self.queued_pairs -= remaining  # chunks never run: cancelled or failed
        return np.concatenate(parts)

    def _observe(self, pairs: PairSet) -> None:
        if self.on_batch is not None:
            self.on_batch(len(pairs), int(pairs.lengths.sum()))

    def _take_queued(self, jobs: list[_Job], size: int) -> int:
        """Move jobs that are already waiting into the batch (no waiting), up to the pair budget."""
        while size < self.max_batch_pairs and not self.queue.empty():
            job = self.queue.get_nowait()
            if job.future.done():  # its request was cancelled (client gone): drop it
                continue
            jobs.append(job)
            size += len(job.pairs)
        return size

    async def _next_batch(self) -> list[_Job]:
        loop = asyncio.get_running_loop()
        first = await self.queue.get()
        while first.future.done():
            first = await self.queue.get()
        jobs = [first]
        # What is queued already joins first, so max_wait 0 still merges; then wait for more.
        size = self._take_queued(jobs, len(first.pairs))
        deadline = loop.time() + self.max_wait
        while size < self.max_batch_pairs:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                job = await asyncio.wait_for(self.queue.get(), remaining)
            except asyncio.TimeoutError:
                break
            if not job.future.done():
                jobs.append(job)
                size += len(job.pairs)
            size = self._take_queued(jobs, size)
        return jobs

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._next_batch()
            merged = PairSet.concat([j.pairs for j in jobs])
            self._observe(merged)
            try:
                logits = await loop.run_in_executor(self.executor, self.classifier.logits, merged)
            except Exception as exc:  # hand the failure to every waiting request
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            offset = 0
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(logits[offset : offset + len(job.pairs)])
                offset += len(job.pairs)
