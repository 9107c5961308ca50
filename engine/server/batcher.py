"""Merge concurrent requests for one model into shared onnxruntime batches, off the event loop.

Each request is cut into chunks of at most ``max_batch_pairs`` pairs and submits them one after
another, so a huge request takes turns with the others instead of holding the model.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..classifier import ZeroShotClassifier
from ..encoding import PairSet

@dataclass
class _Job:
    pairs: PairSet
    future: asyncio.Future


class MicroBatcher:
    def __init__(self, classifier: ZeroShotClassifier, max_batch_pairs: int, max_wait_ms: float, enabled: bool = True):
        self.classifier = classifier
        self.max_batch_pairs = max(1, max_batch_pairs)
        self.max_wait = max(0.0, max_wait_ms) / 1000
        self.enabled = enabled
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
        loop = asyncio.get_running_loop()
        parts = []
        for start in range(0, len(pairs), self.max_batch_pairs):
            chunk = pairs.take(np.arange(start, min(start + self.max_batch_pairs, len(pairs))))
            if not self.enabled:
                parts.append(await loop.run_in_executor(self.executor, self.classifier.logits, chunk))
                continue
            job = _Job(chunk, loop.create_future())
            await self.queue.put(job)
            parts.append(await job.future)
        return np.concatenate(parts)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self.queue.get()]
            size = len(jobs[0].pairs)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch_pairs:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
                jobs.append(job)
                size += len(job.pairs)
            merged = PairSet.concat([j.pairs for j in jobs])
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
