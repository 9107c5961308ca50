"""Parse and check an Inference API request body. Every problem is a RequestError (HTTP 400)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..defaults import DEFAULT_LONG_TEXT, DEFAULT_SCORING
from ..inputs import DEFAULT_TEMPLATE, InputError, normalise_labels
from .config import Limits


class RequestError(InputError):
    """The client sent something zsc cannot classify; becomes 400 {"error": message}."""


@dataclass(frozen=True)
class ZeroShotRequest:
    inputs: str | list[str]
    candidate_labels: list[str] | str
    hypothesis_template: str
    multi_label: bool
    scoring: str = DEFAULT_SCORING  # zsc extension
    prefilter_top_k: int | None = None  # zsc extension
    long_text: str = DEFAULT_LONG_TEXT  # zsc extension
    window_tokens: int | None = None  # zsc extension

    @property
    def characters(self) -> int:
        return sum(len(t) for t in self.texts)

    @property
    def texts(self) -> list[str]:
        return [self.inputs] if isinstance(self.inputs, str) else self.inputs

    def cache_key(self, model_id: str, legacy: bool) -> bytes:
        """A digest of everything that decides the response: 32 bytes whatever the request's size,
        so the cache's byte bound holds (a key padded with a megabyte of spaces costs 32 bytes)."""
        described = json.dumps([model_id, legacy, self.inputs, self.candidate_labels, self.hypothesis_template, self.multi_label,
                                self.scoring, self.prefilter_top_k, self.long_text, self.window_tokens], ensure_ascii=False)
        return hashlib.sha256(described.encode("utf-8", "surrogatepass")).digest()

    def least_pairs(self, label_count: int) -> int:
        """The fewest NLI pairs this request can cost (one window per text): known before any work."""
        if self.scoring == "embedding":
            return 0
        return len(self.texts) * min(label_count, self.prefilter_top_k or label_count)


def parse_request(body: bytes, limits: Limits) -> ZeroShotRequest:
    try:
        data = json.loads(body)
    except ValueError as exc:  # invalid JSON, not UTF-8, or an integer of thousands of digits
        raise RequestError(f"request body is not valid JSON: {exc}") from exc
    except RecursionError:  # thousands of nested arrays: the parser's stack, not our bug
        raise RequestError("request body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise RequestError('request body must be a JSON object: {"inputs": ..., "parameters": {...}}')
    inputs = data.get("inputs")
    if isinstance(inputs, list):
        if not all(isinstance(t, str) for t in inputs):
            raise RequestError("inputs must be a string or a list of strings")
        if len(inputs) > limits.max_inputs:
            raise RequestError(f"too many inputs: {len(inputs)} > max_inputs {limits.max_inputs}")
        texts = inputs
    elif isinstance(inputs, str):
        texts = [inputs]
    else:
        raise RequestError("inputs is required and must be a string or a list of strings")
    for text in texts:
        if len(text) > limits.max_input_chars:
            raise RequestError(f"an input is {len(text)} characters long > max_input_chars {limits.max_input_chars}")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict):
        raise RequestError("parameters is required and must be an object with candidate_labels")
    labels = parameters.get("candidate_labels")
    if isinstance(labels, list):
        if not all(isinstance(l, str) for l in labels):
            raise RequestError("candidate_labels must be a list of strings")
        count = len(labels)
    elif isinstance(labels, str):
        count = len(normalise_labels(labels))
    else:
        raise RequestError("parameters.candidate_labels is required: a list of strings")
    if count > limits.max_labels:
        raise RequestError(f"too many candidate_labels: {count} > max_labels {limits.max_labels}")
    template = _optional(parameters, "hypothesis_template", str, DEFAULT_TEMPLATE)
    multi_label = _optional(parameters, "multi_label", bool, False)
    scoring = _optional(parameters, "scoring", str, DEFAULT_SCORING)
    long_text = _optional(parameters, "long_text", str, DEFAULT_LONG_TEXT)
    top_k, window = (_optional_int(parameters, name) for name in ("prefilter_top_k", "window_tokens"))
    request = ZeroShotRequest(inputs, labels, template, multi_label, scoring, top_k, long_text, window)
    check_cost(request.least_pairs(count), 0, limits)
    return request


def check_cost(pairs: int, tokens: int, limits: Limits) -> None:
    """The one admission rule for a request's size: its NLI pairs (windows and prefilter planned
    in) and their tokens, against the per-request limits. Checked on the least the request can
    cost before any work, and on what it costs once tokenised, before it is queued."""
    if pairs > limits.max_pairs:
        raise RequestError(f"this request needs {pairs} NLI pairs (texts x windows x labels) > max_pairs {limits.max_pairs}; "
                           "send fewer texts or labels, fewer windows (a larger window_tokens), or a prefilter_top_k")
    if tokens > limits.max_tokens:
        raise RequestError(f"this request needs {tokens} tokens over its {pairs} NLI pairs > max_tokens {limits.max_tokens}; "
                           "send fewer or shorter texts, or fewer labels")


def _optional_int(parameters: dict[str, Any], name: str) -> int | None:
    value = parameters.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise RequestError(f"parameters.{name} must be a positive integer")
    return value


def _optional(parameters: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = parameters.get(name)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise RequestError(f"parameters.{name} must be a {kind.__name__}")
    return value


def header_flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
