"""The server's micro-batcher: merging what is queued, backpressure, and dropping abandoned work."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

pytest.importorskip("fastapi")

from zsc.engine import ZeroShotClassifier  # noqa: E402
from zsc.engine.server.batcher import MicroBatcher, QueueFull  # noqa: E402


class CountingClassifier:
    """Wraps a real classifier, counting batches and (optionally) holding the first one."""

    def __init__(self, classifier: ZeroShotClassifier, hold: threading.Event | None = None):
        self.classifier, self.hold, self.batches = classifier, hold, []

    def logits(self, pairs):
        if self.hold is not None and not self.batches:
            self.hold.wait(10)
        self.batches.append(len(pairs))
        return self.classifier.logits(pairs)


@pytest.fixture(scope="module")
def tiny(tiny_exported):
    return ZeroShotClassifier.from_pretrained(tiny_exported("bert"))


def pairs_for(classifier, text, labels=("a", "b", "c", "d")):
    return classifier.prepare(text, list(labels)).pairs


def test_queued_jobs_merge_with_zero_wait(tiny):
    """51 requests queued while the model is busy run in far fewer than 51 batches, with max_wait 0."""
    release = threading.Event()
    counting = CountingClassifier(tiny, hold=release)

    async def scenario():
        batcher = MicroBatcher(counting, max_batch_pairs=64, max_wait_ms=0)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "the first text")))
        await asyncio.sleep(0.1)  # the first batch is now running (held)
        rest = [asyncio.ensure_future(batcher.logits(pairs_for(tiny, f"text number {i}"))) for i in range(50)]
        await asyncio.sleep(0.1)
        release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        return results

    results = asyncio.run(scenario())
    assert len(results) == 51 and all(r.shape == (4, 3) for r in results)
    assert len(counting.batches) <= 5, counting.batches  # 1 held + 200 pairs in batches of >= 64
    expected = tiny.logits(pairs_for(tiny, "text number 7"))
    np.testing.assert_allclose(results[8], expected, atol=1e-6)


def test_full_queue_refuses_at_once(tiny):
    release = threading.Event()
    counting = CountingClassifier(tiny, hold=release)

    async def scenario():
        batcher = MicroBatcher(counting, max_batch_pairs=64, max_wait_ms=0, max_queue_pairs=8)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "one")))
        second = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "two")))
        await asyncio.sleep(0.1)
        with pytest.raises(QueueFull, match="8 pairs are queued; the limit is 8"):
            await batcher.logits(pairs_for(tiny, "three"))
        release.set()
        await asyncio.gather(first, second)
        assert batcher.queued_pairs == 0  # finished work leaves the queue count
        await batcher.logits(pairs_for(tiny, "three"))  # room again
        await batcher.stop()

    asyncio.run(scenario())


def test_abandoned_requests_are_not_computed(tiny):
    release = threading.Event()
    counting = CountingClassifier(tiny, hold=release)

    async def scenario():
        batcher = MicroBatcher(counting, max_batch_pairs=4, max_wait_ms=0)
        batcher.start()
        first = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "busy")))
        await asyncio.sleep(0.1)
        gone = asyncio.ensure_future(batcher.logits(pairs_for(tiny, "client went away", labels=[str(i) for i in range(12)])))
        await asyncio.sleep(0.05)
        gone.cancel()
        release.set()
        await first
        await asyncio.sleep(0.2)
        assert batcher.queued_pairs == 0
        await batcher.stop()

    asyncio.run(scenario())
    assert counting.batches == [4], counting.batches  # the cancelled request's 3 chunks never ran
