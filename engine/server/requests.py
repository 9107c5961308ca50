"""Parse and check an Inference API request body. Every problem is a RequestError (HTTP 400)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

from ..inputs import InputError, normalise_labels
from ..options import CallOptions
from .config import Fairness, Limits

# The request's parameters beyond candidate_labels: exactly CallOptions' fields (the Inference
# API's hypothesis_template and multi_label, then zsc's extensions).
OPTION_NAMES = tuple(f.name for f in fields(CallOptions))


class RequestError(InputError):
    """The client sent something zsc cannot classify; becomes 400 {"error": message}."""


@dataclass(frozen=True)
class ZeroShotRequest:
    """A parsed request: texts, their labels (one list for all, or one per text) and the options."""

    inputs: str | list[str]
    candidate_labels: list[str] | str | list[list[str]]
    options: CallOptions = CallOptions()

    @property
    def characters(self) -> int:
        return sum(len(t) for t in self.texts)

    @property
    def texts(self) -> list[str]:
        return [self.inputs] if isinstance(self.inputs, str) else self.inputs

    def cache_key(self, model_id: str, legacy: bool) -> bytes:
        """A digest of everything that decides the response: 32 bytes whatever the request's size,
        so the cache's byte bound holds (a key padded with a megabyte of spaces costs 32 bytes)."""
        described = json.dumps([model_id, legacy, self.inputs, self.candidate_labels, self.options.cache_key()], ensure_ascii=False)
        return hashlib.sha256(described.encode("utf-8", "surrogatepass")).digest()

    def least_pairs(self, label_counts: list[int]) -> int:
        """The fewest NLI pairs this request can cost (one window per text): known before any work."""
        return sum(self.options.nli_labels(count) for count in label_counts)

    def is_light(self, fairness: Fairness) -> bool:
        """Whether this request surely costs at most ``fairness.light_pairs`` NLI pairs and embedder
        passes, known before any work: texts cut to the model's window (no windows), so every
        text is one premise, and at most that many pairs, texts and distinct labels."""
        if fairness.light_pairs <= 0 or self.options.long_text != "truncate":
            return False
        label_sets = [self.candidate_labels] * len(self.texts) if not _per_text(self.candidate_labels) else self.candidate_labels
        try:
            labels = [normalise_labels(own) for own in label_sets]  # type: ignore[arg-type]
        except InputError:
            return False  # refused with a 400 when it is prepared
        distinct = len({label for own in labels for label in own})
        pairs = sum(self.options.nli_labels(len(own), embedder=False) for own in labels)  # the most: "auto" may not narrow
        return fairness.is_light(pairs) and fairness.is_light(len(self.texts) + distinct)


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
    counts = _label_counts(labels, len(texts))
    if max(counts, default=0) > limits.max_labels:
        raise RequestError(f"too many candidate_labels: {max(counts)} > max_labels {limits.max_labels}")
    # Other parameters are ignored, as the hosted API does; null means the default, as clients
    # that send every field with null expect.
    try:
        options = CallOptions.from_record({name: parameters[name] for name in OPTION_NAMES if parameters.get(name) is not None})
    except InputError as exc:
        raise RequestError(f"parameters: {exc}") from None
    request = ZeroShotRequest(inputs, labels, options)  # type: ignore[arg-type]  # checked by _label_counts
    check_cost(request.least_pairs(counts), 0, limits)
    return request


def _per_text(labels: object) -> bool:
    """candidate_labels given as one list per text (a zsc extension)."""
    return isinstance(labels, list) and bool(labels) and all(isinstance(item, list) for item in labels)


def _label_counts(labels: object, text_count: int) -> list[int]:
    """Labels per text, from the body's candidate_labels: one list (or comma-separated string)
    for every text, or one list per text (a zsc extension: then inputs is a list of as many texts)."""
    if isinstance(labels, str):
        return [len(normalise_labels(labels))] * text_count
    if not isinstance(labels, list):
        raise RequestError("parameters.candidate_labels is required: a list of strings (or one list per input)")
    if all(isinstance(label, str) for label in labels):
        return [len(labels)] * text_count
    if not all(isinstance(item, list) and all(isinstance(label, str) for label in item) for item in labels):
        raise RequestError("candidate_labels must be a list of strings, or one list of strings per input")
    if len(labels) != text_count:
        raise RequestError(f"candidate_labels has {len(labels)} label lists for {text_count} inputs: give one list per input")
    return [len(item) for item in labels]


def check_cost(pairs: int, tokens: int, limits: Limits, passages: int = 0) -> None:
    """The one admission rule for a request's size: its NLI pairs (windows and prefilter planned
    in) and their tokens, against the per-request limits, and the passages the embedder reads
    (each one model pass, as a pair is: with scoring "embedding" a text's windows cost no pairs).
    Checked on the least the request can cost before any work, once its windows are cut (before
    the embedder runs), and on what it costs once tokenised, before it is queued."""
    if pairs > limits.max_pairs:
        raise RequestError(f"this request needs {pairs} NLI pairs (texts x windows x labels) > max_pairs {limits.max_pairs}; "
                           "send fewer texts or labels, fewer windows (a larger window_tokens), or a prefilter_top_k")
    if passages > limits.max_pairs:
        raise RequestError(f"this request needs {passages} embedder passes (its texts or their windows, and its distinct labels) "
                           f"> max_pairs {limits.max_pairs}; send fewer or shorter texts, fewer distinct labels, or a larger window_tokens")
    if tokens > limits.max_tokens:
        raise RequestError(f"this request needs {tokens} tokens over its {pairs} NLI pairs > max_tokens {limits.max_tokens}; "
                           "send fewer or shorter texts, or fewer labels")


def header_flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
