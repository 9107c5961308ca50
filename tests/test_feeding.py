"""GPU-side feeding (length buckets, I/O binding, prefetching) must not change a score: checked on
the CPU, where the same code runs when forced on."""

from __future__ import annotations

import numpy as np
import pytest

from zsc.engine import PROVIDER_FEEDING, Feeding, ZeroShotClassifier
from zsc.engine.runner import Prefetcher

TEXTS = [
    "The striker scored twice in the second half.",
    "Stocks fell sharply as investors worried about rising interest rates and a slowing economy in Europe.",
    "Scientists observed a new comet.",
    "The parliament passed the budget after a long debate that lasted well into the night, angering the opposition.",
] * 5
LABELS = ["sports", "business", "science", "politics", "weather"]


def scores(classifier: ZeroShotClassifier) -> np.ndarray:
    return np.array([[p["score"] for p in sorted(r, key=lambda p: p["label"])] for r in classifier(TEXTS, LABELS)])


def test_gpu_feeding_gives_the_same_scores_on_the_cpu(default_model_dir):
    plain = ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu")
    assert plain.feeding == PROVIDER_FEEDING["cpu"] and plain.budget.pad_multiple == 1
    gpu_like = Feeding(batch_size=8, max_batch_tokens=4096, pad_multiple=16, io_binding=True, prefetch=True)
    fed = ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu", feeding=gpu_like)
    assert fed.budget.pad_multiple == 16 and fed.batch_size == 8
    widths = []
    original = fed._feeds
    fed._feeds = lambda pairs, width: (lambda f: widths.append(f["input_ids"].shape[1]) or f)(original(pairs, width))  # type: ignore[method-assign]
    # Per-row int8 and masked padding: the same scores whatever the padding and the batch.
    assert np.abs(scores(fed) - scores(plain)).max() < 1e-6
    assert widths and all(w % 16 == 0 for w in widths)


def test_a_callers_feeding_reaches_the_embedder_and_changes_no_embedding(default_model_dir):
    """One batch runner serves both models: the embedder runs with the feeding the caller chose."""
    from zsc.engine import TextEmbedder, default_embedder_path

    gpu_like = Feeding(batch_size=3, max_batch_tokens=4096, pad_multiple=16, io_binding=True, prefetch=True)
    fed = ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu", feeding=gpu_like, embedder=default_embedder_path())
    assert fed.embedder.runner.feeding == gpu_like and fed.embedder.budget.pad_multiple == 16
    plain = TextEmbedder.from_pretrained(default_embedder_path(), provider="cpu")
    assert plain.runner.feeding == PROVIDER_FEEDING["cpu"]
    assert np.abs(fed.embedder.embed(TEXTS[:7]) - plain.embed(TEXTS[:7])).max() < 1e-6


def test_batch_size_arguments_override_the_provider_feeding(default_model_dir):
    classifier = ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu", batch_size=4, max_batch_tokens=9000)
    assert (classifier.batch_size, classifier.max_batch_tokens) == (4, 9000)
    with pytest.raises(ValueError, match="must be positive"):
        ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu", batch_size=0)


def test_budget_counts_the_bucketed_width():
    from zsc.engine.batching import BatchBudget

    budget = BatchBudget(256, 1024, pad_multiple=32)
    assert budget.padded(33) == 64 and budget.padded(64) == 64 and budget.padded(1) == 32
    assert budget.capacity(33) == 16  # 1024 tokens / 64 padded


def test_prefetcher_keeps_order_and_surfaces_errors():
    prefetcher = Prefetcher()
    assert list(prefetcher.ahead([1, 2, 3], lambda x: x * 10)) == [(1, 10), (2, 20), (3, 30)]
    assert list(prefetcher.ahead([], lambda x: x)) == []

    def fails_on_two(x: int) -> int:
        if x == 2:
            raise ValueError("bad batch 2")
        return x

    got = prefetcher.ahead([1, 2, 3], fails_on_two)
    assert next(got) == (1, 1)
    with pytest.raises(ValueError, match="bad batch 2"):
        next(got)
