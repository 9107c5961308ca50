"""The served models: each loads in the background, then serves through its own batcher."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..classifier import ZeroShotClassifier
from ..loading import default_embedder_path, default_model_path
from .batcher import MicroBatcher
from .config import ServerConfig
from .errors import HttpError
from .metrics import ServerMetrics

logger = logging.getLogger("zsc.server")


@dataclass
class ModelSlot:
    model_id: str
    path: Path
    started: float = field(default_factory=time.monotonic)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    classifier: ZeroShotClassifier | None = None
    batcher: MicroBatcher | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        return "ready" if self.classifier else "failed" if self.error else "loading"

    def estimated_time(self) -> float:
        """Seconds until the model is likely loaded (for 503's estimated_time), from its size."""
        size_mb = sum(p.stat().st_size for p in self.path.glob("*.onnx")) / 1e6
        return round(max(0.5, size_mb / 50 - (time.monotonic() - self.started)), 1)

    def describe(self) -> dict[str, Any]:
        """This model's entry in GET /models."""
        entry: dict[str, Any] = {"id": self.model_id, "status": self.status}
        if self.error:
            entry["error"] = self.error
        if self.classifier is not None:
            manifest = self.classifier.model_dir.manifest
            entry |= {"labels": self.classifier.model_dir.labels, "precision": self.classifier.precision,
                      "compute_type": self.classifier.compute_type, "max_length": manifest.max_length,
                      "batch_size": self.classifier.batch_size, "max_batch_tokens": self.classifier.max_batch_tokens}
        return entry


def _is_embedded_model(path: Path) -> bool:
    try:
        return path.resolve() == default_model_path().resolve()
    except FileNotFoundError:  # an install without the embedded model
        return False


class ModelRegistry:
    """Loads every configured model in the background and hands out those that are ready."""

    def __init__(self, config: ServerConfig, metrics: ServerMetrics) -> None:
        self.config, self.metrics = config, metrics
        self.slots = {model_id: ModelSlot(model_id, path) for model_id, path in config.models.items()}
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._load(slot)) for slot in self.slots.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for slot in self.slots.values():
            if slot.batcher is not None:
                await slot.batcher.stop()

    async def _load(self, slot: ModelSlot) -> None:
        config = self.config
        try:
            started = time.perf_counter()
            embedder = config.embedder or (default_embedder_path() if _is_embedded_model(slot.path) else None)
            slot.classifier = await asyncio.to_thread(
                ZeroShotClassifier.from_pretrained, slot.path, options=config.loading, embedder=embedder)
            self.metrics.load_seconds.labels(slot.model_id).set(time.perf_counter() - started)
            batcher = MicroBatcher(slot.classifier, config.max_wait_ms, config.batching, config.max_queue_pairs,
                                   on_batch=self.metrics.batch_observer(slot.model_id), max_preparing=config.max_preparing,
                                   fairness=config.fairness)
            self.metrics.watch_queue(slot.model_id, lambda: batcher.queued_pairs)
            batcher.start()
            slot.batcher = batcher
            logger.info("model %s ready (%s on %s)", slot.model_id, slot.classifier.precision, slot.classifier.compute_type)
        except Exception as exc:  # the server stays up; requests for this model get a clear error
            slot.error = f"model {slot.model_id} failed to load: {exc}"
            logger.error(slot.error)
        finally:
            slot.ready.set()

    def metrics_label(self, model_id: str) -> str:
        """Unknown model ids share one label, so clients cannot grow the metrics without bound."""
        return model_id if model_id in self.slots else "unknown"

    async def ready(self, model_id: str, wait: bool) -> tuple[ZeroShotClassifier, MicroBatcher]:
        """The model's classifier and batcher once it is loaded; 404, 503 (loading) or 500 (failed) otherwise."""
        slot = self.slots.get(model_id)
        if slot is None:
            raise HttpError(404, f"Model {model_id} does not exist")
        if not slot.ready.is_set():
            if not wait:
                raise HttpError(503, f"Model {model_id} is currently loading", estimated_time=slot.estimated_time())
            await slot.ready.wait()
        if slot.error or slot.classifier is None or slot.batcher is None:
            # Not "loading": retrying will not help, so not 503 either.
            raise HttpError(500, slot.error or f"Model {model_id} failed to load")
        return slot.classifier, slot.batcher

    def health(self) -> tuple[dict[str, Any], int]:
        """GET /health's body and status: 200 unless a model failed (503 degraded or failed)."""
        states = {m: s.status for m, s in self.slots.items()}
        failed = {m: s.error for m, s in self.slots.items() if s.status == "failed"}
        status = "ok" if not failed else "failed" if len(failed) == len(self.slots) else "degraded"
        ready = all(state == "ready" for state in states.values())
        body = {"status": status, "ready": ready, "models": states} | ({"errors": failed} if failed else {})
        return body, 200 if status == "ok" else 503
