"""create_app(config): the FastAPI app, wired from the server's rooms.

Here: the routes (the playground page at GET /ui, from playground.py), and the classification handler (body → parsed request → cache → engine →
response). Elsewhere: model loading (models.py), batching (batcher.py), auth (auth.py), the
connection (transport.py), errors (errors.py), metrics (metrics.py), the contract (openapi.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..inputs import InputError
from .auth import authorize
from .batcher import QueueFull
from .cache import ResponseCache
from .config import ServerConfig
from .errors import HttpError, install_error_handlers
from .guard import RequestGuard
from .metrics import ServerMetrics
from .models import ModelRegistry
from .openapi import UNAUTHORIZED, openapi_contract, without_validation_error
from .playground import playground_page, security_headers
from .requests import check_cost, header_flag, parse_request
from .transport import read_body, unless_disconnected

logger = logging.getLogger("zsc.server")
# huggingface_hub before 1.0 parses only the legacy {sequence, labels, scores} shape.
LEGACY_CLIENT = re.compile(r"\b(?:huggingface_hub|hf_hub)/0\.")
RETRY_AFTER_S = 1
# The Inference API's request headers beyond auth, and what the server answers with (for --allow-origin pages).
CLIENT_HEADERS = ["x-use-cache", "x-wait-for-model", "x-zsc-format"]
RESPONSE_HEADERS = ["x-compute-type", "x-compute-time", "x-compute-characters", "x-cache"]


def wants_legacy(request: Request) -> bool:
    """transformers' older {sequence, labels, scores} shape: asked for, or an old hub client."""
    return (
        header_flag(request.query_params.get("legacy"), False)
        or request.headers.get("x-zsc-format", "").lower() == "legacy"
        or bool(LEGACY_CLIENT.search(request.headers.get("user-agent", "")))
    )


def create_app(config: ServerConfig) -> FastAPI:
    cache = ResponseCache(config.cache_entries, config.cache_bytes)
    metrics = ServerMetrics()
    models = ModelRegistry(config, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        models.start()
        yield
        await models.stop()

    app = FastAPI(title="zsc", version=__version__, lifespan=lifespan,
                  description="Zero-shot classification with the Hugging Face Inference API contract.")
    install_error_handlers(app)
    if config.allow_origins:  # listed sites' pages may call the server: answer their preflights
        app.add_middleware(CORSMiddleware, allow_origins=sorted(config.allow_origins), allow_methods=["GET", "POST"],
                           allow_headers=["authorization", "content-type", *CLIENT_HEADERS], expose_headers=RESPONSE_HEADERS)
    app.add_middleware(RequestGuard, config=config)  # added last: it runs first
    fairness = config.fairness

    async def classify(model_id: str, request: Request) -> Response:
        authorize(config.tokens, request.headers.get("authorization"))
        body = await read_body(request, config.limits.max_body_bytes, config.read_timeout_s)
        if len(body) > config.limits.max_body_bytes:
            raise HttpError(413, f"request body is {len(body)} bytes > max_body_bytes {config.limits.max_body_bytes}")
        try:
            parsed = parse_request(body, config.limits)
        except InputError as exc:
            raise HttpError(400, str(exc)) from exc
        classifier, batcher = await models.ready(model_id, header_flag(request.headers.get("x-wait-for-model"), False))
        legacy = wants_legacy(request)
        headers = {"x-compute-type": classifier.compute_type, "x-compute-characters": str(parsed.characters)}
        key = parsed.cache_key(model_id, legacy)
        if header_flag(request.headers.get("x-use-cache"), True):
            cached = cache.get(key)
            metrics.cache.labels("hit" if cached is not None else "miss").inc()
            if cached is not None:
                return Response(cached, media_type="application/json", headers=headers | {"x-compute-time": "0", "x-cache": "hit"})
        start = time.perf_counter()
        try:
            # Tokenising and embedding are admitted like inference: a bounded pool, 503 when full.
            # Windows are planned in before the embedder reads them: a request over the pair cap pays for neither.
            def admit(pairs: int, passages: int) -> None:
                check_cost(pairs, 0, config.limits, passages)

            prepared = await batcher.prepared(partial(classifier.prepare, parsed.inputs, parsed.candidate_labels, options=parsed.options,
                                                      admit=admit), light=parsed.is_light(fairness))
            check_cost(*classifier.cost(prepared), config.limits)
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

    async def counted(model_id: str, request: Request) -> Response:
        """classify(), counted by status and timed, for /metrics."""
        label = models.metrics_label(model_id)
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

    request_body, responses, parameters = openapi_contract()
    documented = {"requestBody": request_body, "parameters": parameters}

    @app.post("/models/{model_id:path}", openapi_extra=documented, responses=responses)
    async def classify_model(model_id: str, request: Request) -> Response:
        return await counted(model_id, request)

    @app.post("/", openapi_extra=documented, responses=responses)
    async def classify_default(request: Request) -> Response:
        return await counted(config.default_model_id, request)

    if config.playground:
        page = playground_page(config)
        page_headers = security_headers(page)

        @app.get("/ui", response_class=HTMLResponse, include_in_schema=False)
        async def playground() -> HTMLResponse:
            """The playground page: static, so public; it sends the token a user types with each request.
            No other site may frame it, and it may run only its own script and talk only to this server."""
            return HTMLResponse(page, headers=page_headers)

        @app.get("/", include_in_schema=False)
        async def root(request: Request) -> Response:
            """A browser opening the server lands on the playground; to an API client GET / stays
            what it always was, a 405 (the route takes POST)."""
            if "text/html" in request.headers.get("accept", ""):
                return RedirectResponse("/ui", status_code=307)
            raise StarletteHTTPException(405, "Method Not Allowed", headers={"Allow": "POST"})

    def token_holder(request: Request, route: str) -> bool:
        """Whether the caller may see model ids on ``route``: always without tokens; with tokens,
        a listed token is needed unless --public names the route (then 401 is not raised)."""
        if not config.tokens:
            return True
        try:
            authorize(config.tokens, request.headers.get("authorization"))
            return True
        except HttpError:
            if route not in config.public:
                raise
            return False

    metrics_responses: dict[int | str, dict[str, Any]] = {200: {
        "description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}

    @app.get("/metrics", response_class=Response, responses=metrics_responses | UNAUTHORIZED)
    async def prometheus_metrics(request: Request) -> Response:
        token_holder(request, "metrics")
        return Response(metrics.render(), media_type=ServerMetrics.CONTENT_TYPE)

    @app.get("/health", responses=UNAUTHORIZED)
    async def health(request: Request) -> JSONResponse:
        body, status = models.health()
        if not token_holder(request, "health"):
            body = {"status": body["status"], "ready": body["ready"]}  # public; model ids and failures are for token holders
        return JSONResponse(body, status_code=status)

    @app.get("/models", responses=UNAUTHORIZED)
    async def list_models(request: Request) -> dict[str, Any]:
        authorize(config.tokens, request.headers.get("authorization"))
        return {"models": [slot.describe() for slot in models.slots.values()], "cache_entries": len(cache)}

    app.openapi = lambda: without_validation_error(app)  # type: ignore[method-assign]
    return app
