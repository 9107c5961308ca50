"""create_app(config): the FastAPI app. Models load in the background; errors map to status here only."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..classifier import ZeroShotClassifier
from ..inputs import InputError
from .batcher import MicroBatcher, QueueFull
from .cache import ResponseCache
from .config import ServerConfig
from .metrics import ServerMetrics
from .openapi import UNAUTHORIZED, openapi_contract, without_validation_error
from .requests import header_flag, parse_request

logger = logging.getLogger("zsc.server")
# huggingface_hub before 1.0 parses only the legacy {sequence, labels, scores} shape.
LEGACY_CLIENT = re.compile(r"\b(?:huggingface_hub|hf_hub)/0\.")


RETRY_AFTER_S = 1


async def wait_for_disconnect(request: Request) -> None:
    """Return once the client has closed the connection (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any):
        self.status, self.message, self.headers, self.extra = status, message, headers, extra


@dataclass
class ModelSlot:
    model_id: str
    path: Any
    started: float = field(default_factory=time.monotonic)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    classifier: ZeroShotClassifier | None = None
    batcher: MicroBatcher | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        return "ready" if self.classifier else "failed" if self.error else "loading"

    def estimated_time(self) -> float:
        size_mb = sum(p.stat().st_size for p in self.path.glob("*.onnx")) / 1e6
        return round(max(0.5, size_mb / 50 - (time.monotonic() - self.started)), 1)


def create_app(config: ServerConfig) -> FastAPI:
    slots = {model_id: ModelSlot(model_id, path) for model_id, path in config.models.items()}
    cache = ResponseCache(config.cache_entries, config.cache_bytes)
    metrics = ServerMetrics()

    async def load(slot: ModelSlot) -> None:
        try:
            started = time.perf_counter()
            slot.classifier = await asyncio.to_thread(
                ZeroShotClassifier.from_pretrained, slot.path, provider=config.provider, threads=config.threads, batch_size=config.batch_size
            )
            metrics.load_seconds.labels(slot.model_id).set(time.perf_counter() - started)
            slot.batcher = MicroBatcher(slot.classifier, config.max_batch_pairs, config.max_wait_ms, config.batching,
                                        config.max_queue_pairs, on_batch=metrics.batch_observer(slot.model_id))
            batcher = slot.batcher
            metrics.watch_queue(slot.model_id, lambda: batcher.queued_pairs)
            slot.batcher.start()
            logger.info("model %s ready (%s)", slot.model_id, slot.classifier.compute_type)
        except Exception as exc:  # the server stays up; requests for this model get a clear error
            slot.error = f"model {slot.model_id} failed to load: {exc}"
            logger.error(slot.error)
        finally:
            slot.ready.set()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks = [asyncio.create_task(load(slot)) for slot in slots.values()]
        yield
        for task in tasks:
            task.cancel()
        for slot in slots.values():
            if slot.batcher is not None:
                await slot.batcher.stop()

    app = FastAPI(title="zsc", version=__version__, lifespan=lifespan,
                  description="Zero-shot classification with the Hugging Face Inference API contract.")

    @app.exception_handler(HttpError)
    async def http_error(_: Request, exc: HttpError) -> JSONResponse:
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": f"invalid request: {exc.errors()}"}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keep Starlette's headers: a 405 must say which methods are allowed (Allow).
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        logger.exception("unexpected error (request id %s)", request_id)
        return JSONResponse({"error": "unknown error", "request_id": request_id}, status_code=500)

    def authorize(request: Request) -> None:
        if not config.tokens:
            return  # no tokens configured: any Authorization header is accepted and ignored
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        # Compare against every token so timing does not reveal which one nearly matched.
        matched = False
        for known in config.tokens:
            matched |= hmac.compare_digest(token.encode(), known.encode())
        if scheme.lower() != "bearer" or not matched:
            raise HttpError(401, "Authorization: Bearer <token> required", headers={"WWW-Authenticate": "Bearer"})

    async def ready_model(model_id: str, wait: bool) -> tuple[ZeroShotClassifier, MicroBatcher]:
        """The model's classifier and batcher once it is loaded; 404, 503 (loading) or 500 (failed) otherwise."""
        slot = slots.get(model_id)
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

    async def classify(model_id: str, request: Request) -> Response:
        authorize(request)
        body = await read_body(request)
        if len(body) > config.limits.max_body_bytes:
            raise HttpError(413, f"request body is {len(body)} bytes > max_body_bytes {config.limits.max_body_bytes}")
        try:
            parsed = parse_request(body, config.limits)
        except InputError as exc:
            raise HttpError(400, str(exc)) from exc
        classifier, batcher = await ready_model(model_id, header_flag(request.headers.get("x-wait-for-model"), False))
        legacy = (
            header_flag(request.query_params.get("legacy"), False)
            or request.headers.get("x-zsc-format", "").lower() == "legacy"
            or bool(LEGACY_CLIENT.search(request.headers.get("user-agent", "")))
        )
        headers = {"x-compute-type": classifier.compute_type, "x-compute-characters": str(parsed.characters)}
        key = parsed.cache_key(model_id, legacy)
        if header_flag(request.headers.get("x-use-cache"), True):
            cached = cache.get(key)
            metrics.cache.labels("hit" if cached is not None else "miss").inc()
            if cached is not None:
                return Response(cached, media_type="application/json", headers=headers | {"x-compute-time": "0", "x-cache": "hit"})
        start = time.perf_counter()
        try:
            prepared = await asyncio.to_thread(classifier.prepare, parsed.inputs, parsed.candidate_labels, parsed.hypothesis_template, parsed.multi_label)
            logits = await unless_disconnected(request, batcher.logits(prepared.pairs))
            result = classifier.finish(prepared, logits, legacy=legacy)
        except QueueFull as exc:
            raise HttpError(503, f"Model {model_id} is overloaded ({exc}); retry shortly",
                            headers={"Retry-After": str(RETRY_AFTER_S)}) from exc
        except InputError as exc:  # only the caller's mistakes are 400s; anything else is ours (500)
            raise HttpError(400, str(exc)) from exc
        payload = json.dumps(result).encode()
        cache.put(key, payload)
        headers["x-compute-time"] = f"{time.perf_counter() - start:.4f}"
        return Response(payload, media_type="application/json", headers=headers | {"x-cache": "miss"})

    async def unless_disconnected(request: Request, work: Any) -> Any:
        """Await ``work``, cancelling it (and dropping its queued batches) if the client goes away."""
        task = asyncio.ensure_future(work)
        watcher = asyncio.ensure_future(wait_for_disconnect(request))
        try:
            done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
        if task not in done:
            task.cancel()
            raise HttpError(499, "client closed the request")  # nobody reads this answer
        return task.result()

    request_body, responses, parameters = openapi_contract()

    documented = {"requestBody": request_body, "parameters": parameters}

    async def counted(model_id: str, request: Request) -> Response:
        """classify(), counted by status and timed, for /metrics (unknown model ids share one label)."""
        label = model_id if model_id in slots else "unknown"
        started = time.perf_counter()
        status = 500
        try:
            response = await classify(model_id, request)
            status = response.status_code
            return response
        except HttpError as exc:
            status = exc.status
            raise
        finally:
            metrics.requests.labels(label, str(status)).inc()
            metrics.duration.labels(label).observe(time.perf_counter() - started)

    @app.post("/models/{model_id:path}", openapi_extra=documented, responses=responses)
    async def classify_model(model_id: str, request: Request) -> Response:
        return await counted(model_id, request)

    @app.post("/", openapi_extra=documented, responses=responses)
    async def classify_default(request: Request) -> Response:
        return await counted(config.default_model_id, request)

    @app.get("/metrics", response_class=Response, responses={200: {
        "description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=ServerMetrics.CONTENT_TYPE)

    async def read_body(request: Request) -> bytes:
        """The body, up to the size limit plus one byte, within the read timeout (slow clients get 408)."""
        limit = config.limits.max_body_bytes
        chunks, size = [], 0

        async def collect() -> None:
            nonlocal size
            async for chunk in request.stream():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    return

        try:
            await asyncio.wait_for(collect(), timeout=config.read_timeout_s)
        except asyncio.TimeoutError:
            raise HttpError(408, f"request body not received within {config.read_timeout_s:g} s") from None
        return b"".join(chunks)

    @app.get("/health")
    async def health() -> JSONResponse:
        states = {m: s.status for m, s in slots.items()}
        failed = {m: s.error for m, s in slots.items() if s.status == "failed"}
        status = "ok" if not failed else "failed" if len(failed) == len(slots) else "degraded"
        body = {"status": status, "models": states} | ({"errors": failed} if failed else {})
        return JSONResponse(body, status_code=200 if status == "ok" else 503)

    @app.get("/models", responses=UNAUTHORIZED)
    async def list_models(request: Request) -> dict[str, Any]:
        authorize(request)
        models = []
        for slot in slots.values():
            entry: dict[str, Any] = {"id": slot.model_id, "status": slot.status}
            if slot.error:
                entry["error"] = slot.error
            if slot.classifier is not None:
                manifest = slot.classifier.model_dir.manifest
                entry |= {"labels": slot.classifier.model_dir.labels, "precision": manifest.precision,
                          "compute_type": slot.classifier.compute_type, "max_length": manifest.max_length}
            models.append(entry)
        return {"models": models, "cache_entries": len(cache)}

    app.openapi = lambda: without_validation_error(app)  # type: ignore[method-assign]
    return app
