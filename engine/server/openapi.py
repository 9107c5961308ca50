"""The classification routes' OpenAPI description: what the handlers accept and answer.

The handlers parse bodies themselves (to answer 400 {"error"} like the hosted API, never
FastAPI's 422), so the request and response shapes are declared here by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..defaults import (
    DEFAULT_LONG_TEXT,
    DEFAULT_PREFILTER_TOP_K,
    DEFAULT_SCORING,
    DEFAULT_TEMPLATE,
    LONG_TEXT_MODES,
    describe_auto_prefilter,
    describe_window_defaults,
)
from ..scoring_modes import SCORING_MODES, describe_scoring_modes

_RANKED = {"type": "array", "items": {
    "type": "object", "required": ["label", "score"],
    "properties": {"label": {"type": "string"}, "score": {"type": "number"}}}}
_LEGACY = {"type": "object", "required": ["sequence", "labels", "scores"], "properties": {
    "sequence": {"type": "string"},
    "labels": {"type": "array", "items": {"type": "string"}},
    "scores": {"type": "array", "items": {"type": "number"}}}}
_ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string"}, "estimated_time": {"type": "number"}, "request_id": {"type": "string"}}}
_COMPUTE_HEADERS = {
    "x-compute-time": {"description": "seconds spent computing (0 for a cache hit)", "schema": {"type": "string"}},
    "x-compute-type": {"description": "cpu or cuda", "schema": {"type": "string"}},
    "x-compute-characters": {"description": "characters of input classified", "schema": {"type": "string"}},
}


def _error_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": _ERROR}}}
    if headers:
        response["headers"] = headers
    return response


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: _error_response("missing or wrong bearer token", {
    "WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}})}


def _flag(name: str, description: str, default: bool, location: str = "header") -> dict[str, Any]:
    return {"name": name, "in": location, "required": False, "description": description,
            "schema": {"type": "boolean", "default": default}}


def openapi_contract() -> tuple[dict[str, Any], dict[Any, Any], list[dict[str, Any]]]:
    """(requestBody, responses, parameters) for the classification routes."""
    request_body = {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["inputs", "parameters"],
            "properties": {
                "inputs": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "parameters": {"type": "object", "required": ["candidate_labels"], "properties": {
                    "candidate_labels": {"oneOf": [{"type": "array", "items": {"type": "string"}},
                                                   {"type": "string", "description": "comma-separated labels"},
                                                   {"type": "array", "items": {"type": "array", "items": {"type": "string"}},
                                                    "description": "zsc extension: one list of labels per input (inputs a list "
                                                                   "of as many texts); each text is ranked against its own"}]},
                    "hypothesis_template": {"type": "string", "default": DEFAULT_TEMPLATE},
                    "multi_label": {"type": "boolean", "default": False},
                    "scoring": {"type": "string", "enum": list(SCORING_MODES), "default": DEFAULT_SCORING,
                                "description": f"zsc extension: {describe_scoring_modes()}"},
                    "prefilter_top_k": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["auto"]},
                                                  {"type": "null"}], "default": DEFAULT_PREFILTER_TOP_K,
                                        "description": "zsc extension: run NLI on the K labels most similar to each text only; "
                                                       f"auto: {describe_auto_prefilter()}; null: every label"},
                    "long_text": {"type": "string", "enum": list(LONG_TEXT_MODES), "default": DEFAULT_LONG_TEXT,
                                  "description": "zsc extension: truncate (the pipeline), or score windows and take the max or mean"},
                    "window_tokens": {"type": "integer", "minimum": 8,
                                      "description": "zsc extension: window size in tokens for long_text max/mean "
                                                     f"(default: {describe_window_defaults()})"}}},
            }}}},
    }
    answer = {"oneOf": [_RANKED, {"type": "array", "items": _RANKED}, _LEGACY, {"type": "array", "items": _LEGACY}]}
    responses: dict[Any, Any] = {
        200: {"description": "labels ranked by score (a list of rankings for a list of inputs; the legacy shape on request)",
              "content": {"application/json": {"schema": answer}}, "headers": _COMPUTE_HEADERS},
        400: _error_response("invalid body or parameters, over a configured limit, or a Host name this server does not answer"),
        **UNAUTHORIZED,
        403: _error_response("sent by a web page of another origin (not listed with --allow-origin)"),
        404: _error_response("unknown model"),
        408: _error_response("the request body did not arrive within the read timeout"),
        413: _error_response("body too large"),
        415: _error_response("the body is not declared as JSON (Content-Type: application/json)"),
        500: _error_response("the model failed to load (with the reason), or an unexpected error (with a request_id; details in the server log)"),
        503: _error_response("model still loading (with estimated_time), or its queue is full (with Retry-After)", {
            "Retry-After": {"description": "seconds to wait before retrying (queue full)", "schema": {"type": "string"}}}),
    }
    parameters = [
        _flag("x-use-cache", "answer from the response cache when the same request was seen", True),
        _flag("x-wait-for-model", "wait for a loading model instead of answering 503", False),
        {"name": "x-zsc-format", "in": "header", "required": False, "description": "legacy: answer {sequence, labels, scores}",
         "schema": {"type": "string", "enum": ["legacy"]}},
        _flag("legacy", "answer {sequence, labels, scores}", False, location="query"),
    ]
    return request_body, responses, parameters


def without_validation_error(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document minus FastAPI's 422 entries, which this server never sends."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        components = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        if not components:
            schema.pop("components", None)
        app.openapi_schema = schema
    return app.openapi_schema
