"""Prometheus metrics for the server (GET /metrics), in a registry of the app's own."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Batches hold up to --batch-size pairs (32 by default on the CPU; 256 on a GPU) within --max-batch-tokens.
_PAIR_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_TOKEN_BUCKETS = (64, 256, 1024, 2048, 4096, 8192, 16384, 32768)


class ServerMetrics:
    CONTENT_TYPE = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("zsc_requests", "classification requests, by model and HTTP status",
                                ["model", "status"], registry=self.registry)
        self.duration = Histogram("zsc_request_duration_seconds", "classification request latency, by model",
                                  ["model"], registry=self.registry)
        self.queue_pairs = Gauge("zsc_queue_pairs", "pairs admitted and not yet computed, by model",
                                 ["model"], registry=self.registry)
        self.batch_pairs = Histogram("zsc_batch_pairs", "pairs per merged batch, by model", ["model"],
                                     buckets=_PAIR_BUCKETS, registry=self.registry)
        self.batch_tokens = Histogram("zsc_batch_tokens", "tokens (before padding) per merged batch, by model", ["model"],
                                      buckets=_TOKEN_BUCKETS, registry=self.registry)
        self.cache = Counter("zsc_cache_lookups", "response cache lookups, by result (hit or miss)", ["result"],
                             registry=self.registry)
        self.load_seconds = Gauge("zsc_model_load_seconds", "time the model took to load", ["model"], registry=self.registry)

    def watch_queue(self, model: str, depth: Callable[[], float]) -> None:
        self.queue_pairs.labels(model).set_function(depth)

    def batch_observer(self, model: str) -> Callable[[int, int], None]:
        def observe(pairs: int, tokens: int) -> None:
            self.batch_pairs.labels(model).observe(pairs)
            self.batch_tokens.labels(model).observe(tokens)

        return observe

    def render(self) -> bytes:
        return generate_latest(self.registry)
