"""The server's batcher: one batching layer on the engine's budget, merging what is queued,
turn-taking, backpressure, and dropping abandoned work."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

pytest.importorskip("fastapi")

from waiting import event_set, until

from zsc.engine import ZeroShotClassifier
from zsc.engine.server.batcher import MicroBatcher, QueueFull


class CountingClassifier:
    """Wraps a real classifier, recording each onnxruntime batch and (optionally) holding the first."""

    def __init__(self, classifier: ZeroShotClassifier, hold: threading.Event | None = None):
        self.classifier, self.hold = classifier, hold
        self.held = threading.Event()  # set when the first batch has started and is being held
        self.batches: list[tuple[int, int]] = []  # (pairs, padded tokens) of each run
        self.finished: list[str] = []  # order in which tagged requests completed, filled by tests

    def __getattr__(self, name):
        return getattr(self.classifier, name)

    def run_batch(self, pairs):
        if self.hold is not None and not self.batches:
            self.held.set()
            self.hold.wait(10)
        self.batches.append((len(pairs), len(pairs) * int(self.classifier.pair_lengths(pairs).max())))
        return self.classifier.run_batch(pairs)

    def logits(self, pairs):  # the batcher must fill batches itself, never re-plan through logits
        raise AssertionError("the batcher re-planned a batch")


@pytest.fixture(scope="module")
def tiny(tiny_exported):
    # A token budget that 64 of these short pairs fit, so the pair count alone closes a batch.
    return ZeroShotClassifier.from_pretrained(tiny_exported("bert"), batch_size=64, max_batch_tokens=4096)


def pairs_for(classifier, text, labels=("a", "b", "c", "d")):
    return classifier.prepare(text, list(labels)).pairs


def test_queued_jobs_merge_with_zero_wait(tiny):
    """51 requests queued while the model is busy run in 4 full batches, with max_wait 0."""
    release = threading.Event()
    counting = CountingClassifier(tiny, hold=release)

    async def scenario():
        batcher = MicroBatcher(counting, max_wait_ms=0)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "the first text")))
        await event_set(counting.held, "the first batch to run")
        rest = [asyncio.ensure_future(batcher.logits(pairs_for(tiny, f"text number {i}"))) for i in range(50)]
        await until(lambda: batcher.queued_pairs == 4 * 51, "the 50 requests to be queued")
        release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        return results

    results = asyncio.run(scenario())
    assert len(results) == 51 and all(r.shape == (4, 3) for r in results)
    assert [pairs for pairs, _ in counting.batches] == [4, 64, 64, 64, 8], counting.batches
    for i in (0, 7, 49):  # merged logits equal the same pairs computed alone
        np.testing.assert_allclose(results[i + 1], tiny.logits(pairs_for(tiny, f"text number {i}")), atol=1e-6)


def test_batches_respect_the_engine_budget(tiny_exported):
    """The batcher fills runs on the classifier's own budget: pairs and padded tokens."""
    classifier = ZeroShotClassifier.from_pretrained(tiny_exported("bert"), batch_size=8, max_batch_tokens=1)
    counting = CountingClassifier(classifier)
    texts = ["short", "a somewhat longer text with quite a few more words in it " * 3, "mid length text here"]

    async def scenario():
        batcher = MicroBatcher(counting, max_wait_ms=0)
        batcher.start()
        results = await asyncio.gather(*(batcher.logits(pairs_for(classifier, t, labels="abcdefghij")) for t in texts))
        await batcher.stop()
        return results

    results = asyncio.run(scenario())
    budget = classifier.budget
    assert budget.max_batch_tokens == classifier.encoder.max_length  # lifted to the model's window
    assert sum(pairs for pairs, _ in counting.batches) == 30
    for pairs, padded in counting.batches:
        assert pairs <= 8 and (padded <= budget.max_batch_tokens or pairs == 1), counting.batches
    for text, result in zip(texts, results):
        np.testing.assert_allclose(result, classifier.logits(pairs_for(classifier, text, labels="abcdefghij")), atol=1e-6)


def test_requests_of_very_different_lengths_are_not_merged(tiny):
    """Padding a short text's pairs to a long one's length costs more than merging saves."""
    release = threading.Event()
    counting = CountingClassifier(tiny, hold=release)
    long_text = "a much longer text that goes on and on about markets, sport, weather and the arts " * 2

    async def scenario():
        batcher = MicroBatcher(counting, max_wait_ms=0)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "held")))
        await event_set(counting.held, "the first batch to run")
        jobs = [asyncio.ensure_future(batcher.logits(pairs_for(tiny, text))) for text in (long_text, "short", "tiny", long_text)]
        await until(lambda: batcher.queued_pairs == 4 * 5, "the four requests to be queued")
        release.set()
        await asyncio.gather(first, *jobs)
        await batcher.stop()

    asyncio.run(scenario())
    # held; then the two long requests together, then the two short ones together.
    assert [pairs for pairs, _ in counting.batches] == [4, 8, 8], counting.batches
    for pairs, padded in counting.batches[1:]:
        assert padded <= pairs * max(tiny.pair_lengths(pairs_for(tiny, long_text)))


def test_a_large_request_takes_turns(tiny):
    """A small request queued behind a 640-pair one finishes long before it."""
    counting = CountingClassifier(tiny)

    async def scenario():
        batcher = MicroBatcher(counting, max_wait_ms=0)
        batcher.start()

        async def tagged(name, pairs):
            result = await batcher.logits(pairs)
            counting.finished.append(name)
            return result

        big = asyncio.ensure_future(tagged("big", pairs_for(tiny, "large request", labels=[str(i) for i in range(640)])))
        await until(lambda: batcher.queued_pairs > 0, "the big request to be queued first")
        small = asyncio.ensure_future(tagged("small", pairs_for(tiny, "small request")))
        await asyncio.gather(big, small)
        await batcher.stop()

    asyncio.run(scenario())
    assert counting.finished == ["small", "big"]
    assert len(counting.batches) >= 10  # 644 pairs in batches of at most 64


def test_full_queue_refuses_at_once(tiny):
    release = threading.Event()
    counting = CountingClassifier(tiny, hold=release)

    async def scenario():
        batcher = MicroBatcher(counting, max_wait_ms=0, max_queue_pairs=8)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "one")))
        second = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "two")))
        await until(lambda: batcher.queued_pairs == 8, "both requests to be queued")
        with pytest.raises(QueueFull, match="8 pairs are queued; the limit is 8"):
            await batcher.logits(pairs_for(tiny, "three"))
        release.set()
        await asyncio.gather(first, second)
        assert batcher.queued_pairs == 0  # finished work leaves the queue count
        await batcher.logits(pairs_for(tiny, "three"))  # room again
        await batcher.stop()

    asyncio.run(scenario())


def test_abandoned_requests_are_not_computed(tiny_exported):
    small_batches = ZeroShotClassifier.from_pretrained(tiny_exported("bert"), batch_size=4)
    release = threading.Event()
    counting = CountingClassifier(small_batches, hold=release)
    tiny = small_batches

    async def scenario():
        batcher = MicroBatcher(counting, max_wait_ms=0)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "busy")))
        await event_set(counting.held, "the first batch to run")
        gone = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "client went away", labels=[str(i) for i in range(12)])))
        await until(lambda: batcher.queued_pairs == 4 + 12, "the second request to be queued")
        gone.cancel()
        release.set()
        await first
        await until(lambda: batcher.queued_pairs == 0, "the queue to empty")
        await batcher.stop()

    asyncio.run(scenario())
    assert [pairs for pairs, _ in counting.batches] == [4], counting.batches  # the cancelled request's 12 pairs never ran
