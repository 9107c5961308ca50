"""create_app(config): the FastAPI app. Models load in the background; errors map to status here only."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..classifier import ZeroShotClassifier
from .batcher import MicroBatcher
from .cache import ResponseCache
from .config import ServerConfig
from .openapi import UNAUTHORIZED, openapi_contract, without_validation_error
from .requests import RequestError, header_flag, parse_request

logger = logging.getLogger("zsc.server")
# huggingface_hub before 1.0 parses only the legacy {sequence, labels, scores} shape.
LEGACY_CLIENT = re.compile(r"\b(?:huggingface_hub|hf_hub)/0\.")


class HttpError(Exception):
    def __init__(self, status: int, message: str, **extra: Any):
        self.status, self.message, self.extra = status, message, extra


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

    async def load(slot: ModelSlot) -> None:
        try:
            slot.classifier = await asyncio.to_thread(
                ZeroShotClassifier.from_pretrained, slot.path, provider=config.provider, threads=config.threads, batch_size=config.batch_size
            )
            slot.batcher = MicroBatcher(slot.classifier, config.max_batch_pairs, config.max_wait_ms, config.batching)
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
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": f"invalid request: {exc.errors()}"}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        return JSONResponse({"error": "unknown error"}, status_code=500)

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
            raise HttpError(401, "Authorization: Bearer <token> required")

    async def ready_slot(model_id: str, wait: bool) -> ModelSlot:
        slot = slots.get(model_id)
        if slot is None:
            raise HttpError(404, f"Model {model_id} does not exist")
        if not slot.ready.is_set():
            if not wait:
                raise HttpError(503, f"Model {model_id} is currently loading", estimated_time=slot.estimated_time())
            await slot.ready.wait()
        if slot.error or slot.classifier is None or slot.batcher is None:
            raise HttpError(503, slot.error or f"Model {model_id} is unavailable")
        return slot

    async def classify(model_id: str, request: Request) -> Response:
        authorize(request)
        body = await request.body()
        if len(body) > config.limits.max_body_bytes:
            raise HttpError(413, f"request body is {len(body)} bytes > max_body_bytes {config.limits.max_body_bytes}")
        try:
            parsed = parse_request(body, config.limits)
        except RequestError as exc:
            raise HttpError(400, str(exc)) from exc
        slot = await ready_slot(model_id, header_flag(request.headers.get("x-wait-for-model"), False))
        legacy = (
            header_flag(request.query_params.get("legacy"), False)
            or request.headers.get("x-zsc-format", "").lower() == "legacy"
            or bool(LEGACY_CLIENT.search(request.headers.get("user-agent", "")))
        )
        headers = {"x-compute-type": slot.classifier.compute_type, "x-compute-characters": str(parsed.characters)}
        key = parsed.cache_key(model_id, legacy)
        if header_flag(request.headers.get("x-use-cache"), True):
            cached = cache.get(key)
            if cached is not None:
                return Response(cached, media_type="application/json", headers=headers | {"x-compute-time": "0", "x-cache": "hit"})
        start = time.perf_counter()
        try:
            prepared = await asyncio.to_thread(slot.classifier.prepare, parsed.inputs, parsed.candidate_labels, parsed.hypothesis_template, parsed.multi_label)
            logits = await slot.batcher.logits(prepared.pairs)
            result = slot.classifier.finish(prepared, logits, legacy=legacy)
        except (ValueError, TypeError) as exc:
            raise HttpError(400, str(exc)) from exc
        payload = json.dumps(result).encode()
        cache.put(key, payload)
        headers["x-compute-time"] = f"{time.perf_counter() - start:.4f}"
        return Response(payload, media_type="application/json", headers=headers | {"x-cache": "miss"})

    request_body, responses, parameters = openapi_contract()

    documented = {"requestBody": request_body, "parameters": parameters}

    @app.post("/models/{model_id:path}", openapi_extra=documented, responses=responses)
    async def classify_model(model_id: str, request: Request) -> Response:
        return await classify(model_id, request)

    @app.post("/", openapi_extra=documented, responses=responses)
    async def classify_default(request: Request) -> Response:
        return await classify(config.default_model_id, request)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": {m: s.status for m, s in slots.items()}}

    @app.get("/models", responses=UNAUTHORIZED)
    async def list_models(request: Request) -> dict[str, Any]:
        authorize(request)
        models = []
        for slot in slots.values():
            entry: dict[str, Any] = {"id": slot.model_id, "status": slot.status}
            if slot.classifier is not None:
                manifest = slot.classifier.model_dir.manifest
                entry |= {"labels": slot.classifier.model_dir.labels, "precision": manifest.precision,
                          "compute_type": slot.classifier.compute_type, "max_length": manifest.max_length}
            models.append(entry)
        return {"models": models, "cache_entries": len(cache)}

    app.openapi = lambda: without_validation_error(app)  # type: ignore[method-assign]
    return app
