"""Fill the engine's batches from the requests queued for one model, off the event loop.

This is the server's only batching layer: each onnxruntime run is filled from the queue with
the classifier's own budget (``--batch-size`` pairs, ``--max-batch-tokens`` padded tokens), and
run as it is (``ZeroShotClassifier.run_batch``), never re-planned. Requests are served in
arrival order; one that still has pairs left after contributing to a batch goes to the back of
the queue, so a huge request takes turns with small ones instead of holding the model. Each
request's pairs are taken longest first, so a batch mostly holds pairs of similar length.

Admission is bounded at both steps (backpressure: a full step refuses new work at once, 503):
at most ``max_preparing`` requests are tokenised or embedded at once, on a small pool of its
own, and the queue holds at most ``max_queue_pairs`` pairs. The pairs of a request that was
abandoned (client gone) are dropped before they are computed.

Light requests are never starved by heavy ones (``Fairness``): a request of at most
``light_pairs`` pairs and embedder passes is prepared on a thread of its own, may use prepare
slots and queue room that heavy requests leave free for it, and goes ahead of heavy requests in
the batch loop (it fits in one batch). Heavy requests still take turns among themselves.
Scores do not depend on how requests are merged: the shipped precisions are batch-invariant.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from ..classifier import ZeroShotClassifier
from ..encoding import PairSet
from .config import Fairness

T = TypeVar("T")
PREPARE_THREADS = 2  # tokenising and embedding beside the inference thread; more would only contend for the cores

MIN_FILL = 0.8  # least share of real (unpadded) tokens in a batch that merges several requests


class QueueFull(Exception):
    """The model's queue holds too many pairs; the server answers 503 with Retry-After."""


@dataclass(eq=False)
class _Job:
    """One request's pairs, handed to batches longest first; done when every pair has logits."""

    pairs: PairSet
    lengths: np.ndarray  # tokens per pair, as the budget counts them
    future: asyncio.Future
    light: bool = False  # served ahead of heavy jobs
    order: np.ndarray = field(init=False)
    taken: int = 0  # pairs of ``order`` handed to batches so far
    logits: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.order = np.argsort(-self.lengths, kind="stable")

    @property
    def waiting(self) -> int:
        return len(self.order) - self.taken

    @property
    def next_length(self) -> int:
        """The longest pair not yet taken."""
        return int(self.lengths[self.order[self.taken]])

    def take(self, count: int) -> np.ndarray:
        rows = self.order[self.taken : self.taken + count]
        self.taken += count
        return rows

    def deliver(self, rows: np.ndarray, logits: np.ndarray) -> None:
        if self.logits is None:
            self.logits = np.empty((len(self.pairs), logits.shape[1]), dtype=logits.dtype)
        self.logits[rows] = logits
        if not self.waiting and not self.future.done():
            self.future.set_result(self.logits)


class MicroBatcher:
    def __init__(self, classifier: ZeroShotClassifier, max_wait_ms: float = 0.0, enabled: bool = True,
                 max_queue_pairs: int | None = None, on_batch: Callable[[int, int], None] | None = None,
                 max_preparing: int | None = None, fairness: Fairness = Fairness()):
        self.classifier = classifier
        self.fairness = fairness
        self.budget = classifier.budget
        self.max_wait = max(0.0, max_wait_ms) / 1000
        self.enabled = enabled
        self.max_queue_pairs = max_queue_pairs
        self.queued_pairs = 0  # admitted and not yet finished, for backpressure and metrics
        self.on_batch = on_batch  # (pairs, tokens) of each batch handed to the engine, for metrics
        # One inference thread per model: onnxruntime already uses every core inside a run.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsc-infer")
        self.max_preparing = max_preparing
        self.preparing = 0  # requests admitted to the prepare step whose work has not ended
        self.prepare_executor = ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="zsc-prepare")
        # Light requests' own thread: tokenising one short text never waits behind a heavy request's embedding.
        self.express_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsc-express")
        self.jobs: deque[_Job] = deque()
        self._arrived = asyncio.Event()
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
        for job in self.jobs:
            job.future.cancel()
        for executor in (self.executor, self.prepare_executor, self.express_executor):
            executor.shutdown(wait=False, cancel_futures=True)

    async def prepared(self, prepare: Callable[[], T], light: bool = False) -> T:
        """Run ``prepare`` (tokenising, embedding) on the prepare pool, if a slot is free.

        Raises QueueFull at once when ``max_preparing`` requests are already there (for a heavy
        request: ``max_preparing`` less the slots kept for light ones). A slot is freed when the
        work ends, not when the caller stops waiting: a client that leaves does not make room
        for more work than the pool can hold. ``light``: known to cost at most
        ``fairness.light_pairs``; it runs on the express thread.
        """
        light = light and self.fairness.light_pairs > 0
        if self.max_preparing is not None:
            limit = self.max_preparing if light else max(1, self.max_preparing - self.fairness.prepare_reserve)
            if self.preparing >= limit:
                kept = "" if light or limit == self.max_preparing else f" for requests over {self.fairness.light_pairs} pairs"
                raise QueueFull(f"{self.preparing} requests are being prepared; the limit is {limit}{kept}")
        loop = asyncio.get_running_loop()
        self.preparing += 1
        work = (self.express_executor if light else self.prepare_executor).submit(prepare)
        work.add_done_callback(lambda _: self._prepare_ended(loop))
        return await asyncio.wrap_future(work)

    def _prepare_ended(self, loop: asyncio.AbstractEventLoop) -> None:
        def release() -> None:
            self.preparing -= 1

        try:
            loop.call_soon_threadsafe(release)
        except RuntimeError:  # the loop closed at shutdown: nothing is admitted any more
            pass

    async def logits(self, pairs: PairSet) -> np.ndarray:
        """Logits for ``pairs``, computed in batches shared with concurrent requests.

        Raises QueueFull at once when admitting the pairs would take the queue past
        ``max_queue_pairs``, or, for a heavy request, past it less the room kept for light ones
        (a request is never larger than that: the server's per-request limit fits it).
        Cancelling the caller (a client that went away) drops its pairs still in the queue.
        """
        light = self.fairness.is_light(len(pairs))
        if self.max_queue_pairs is not None:
            limit = self.max_queue_pairs - (0 if light else self.fairness.queue_reserve)
            if self.queued_pairs + len(pairs) > limit:
                kept = "" if limit == self.max_queue_pairs else f" for requests over {self.fairness.light_pairs} pairs"
                raise QueueFull(f"{self.queued_pairs} pairs are queued; the limit is {limit}{kept}")
        if not len(pairs):
            return np.empty((0, len(self.classifier.model_dir.manifest.id2label)), dtype=np.float32)
        self.queued_pairs += len(pairs)
        try:
            if not self.enabled:
                self._observe(pairs)
                return await asyncio.get_running_loop().run_in_executor(self.executor, self.classifier.logits, pairs)
            job = _Job(pairs, self.classifier.pair_lengths(pairs), asyncio.get_running_loop().create_future(), light)
            if light:  # behind the light jobs already waiting, ahead of every heavy one
                self.jobs.insert(sum(1 for _ in itertools.takewhile(lambda queued: queued.light, self.jobs)), job)
            else:
                self.jobs.append(job)
            self._arrived.set()
            return await job.future
        finally:
            self.queued_pairs -= len(pairs)

    def _observe(self, pairs: PairSet) -> None:
        if self.on_batch is not None:
            self.on_batch(len(pairs), int(pairs.lengths.sum()))

    def _fill(self) -> tuple[list[tuple[_Job, int]], bool]:
        """How many pairs each queued job gives the next batch, in queue order, within the budget;
        and whether the batch is full (it cannot take the next job's longest pair).

        The oldest job always goes in. A later job joins only if the batch stays at least
        ``MIN_FILL`` real tokens (the rest is padding): merging a short text with a long one
        pads the short one's pairs to the long length, which costs more than it saves on a CPU.
        A job left out waits for a batch of its own length, and is the oldest before long.
        """
        picks: list[tuple[_Job, int]] = []
        rows = longest = real = 0
        for job in self.jobs:
            if job.future.done() or not job.waiting:
                continue
            longest_with = max(longest, job.next_length)
            room = self.budget.capacity(longest_with) - rows
            if room <= 0:
                return picks, True
            count = min(room, job.waiting)
            real_with = real + int(job.lengths[job.order[job.taken : job.taken + count]].sum())
            if picks and real_with < MIN_FILL * (rows + count) * longest_with:
                continue
            picks.append((job, count))
            rows, longest, real = rows + count, longest_with, real_with
            if count < job.waiting:
                return picks, True
        return picks, False

    async def _next_batch(self) -> list[tuple[_Job, int]]:
        """Wait for work, then up to ``max_wait`` for a batch to fill; drop abandoned jobs."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            while self.jobs and self.jobs[0].future.done():  # abandoned, or failed
                self.jobs.popleft()
            self._arrived.clear()
            picks, full = self._fill()
            if picks:
                deadline = loop.time() + self.max_wait if deadline is None else deadline
                if full or loop.time() >= deadline:
                    return picks
                timeout: float | None = deadline - loop.time()
            else:
                self.jobs = deque(job for job in self.jobs if not job.future.done())
                timeout = None
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            picks = await self._next_batch()
            taken = [(job, job.take(count)) for job, count in picks]
            # Heavy jobs with pairs left go behind the others: turns, not one request holding the
            # model. A light job with pairs left stays in front: it needs a batch or two more.
            served = {job for job, _ in taken}
            again = [j for j, _ in taken if j.waiting]
            self.jobs = deque([j for j in again if j.light] + [j for j in self.jobs if j not in served and not j.future.done()]
                              + [j for j in again if not j.light])
            batch = PairSet.concat([job.pairs.take(rows) for job, rows in taken])
            self._observe(batch)
            try:
                logits = await loop.run_in_executor(self.executor, self.classifier.run_batch, batch)
            except Exception as exc:  # hand the failure to every request in the batch
                for job, _ in taken:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            offset = 0
            for job, rows in taken:
                if not job.future.done():
                    job.deliver(rows, logits[offset : offset + len(rows)])
                offset += len(rows)
