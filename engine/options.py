"""CallOptions: how a call classifies, beyond its texts and labels, as one checked, frozen value.

Every front-end builds it once and carries it unchanged: ``ZeroShotClassifier.__call__`` from its
keyword arguments (the pipeline's signature), the server from a request's ``parameters``, the CLI
from its flags, file jobs into and out of their resume record, Ray to its actors. Defaults come
from ``defaults.py``; the checks are here and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from .defaults import (
    AUTO_PREFILTER_MIN_LABELS,
    AUTO_PREFILTER_TOP_K,
    DEFAULT_LONG_TEXT,
    DEFAULT_PREFILTER_TOP_K,
    DEFAULT_SCORING,
    DEFAULT_TEMPLATE,
    DEFAULT_WINDOW_TOKENS,
    LONG_TEXT_MODES,
)
from .inputs import InputError, InputTypeError, label_fields, type_name
from .scoring_modes import SCORING_MODES, TextShape, scoring_mode


@dataclass(frozen=True)
class CallOptions:
    """A call's options, checked: build it with ``CallOptions.of(...)`` (or ``CallOptions()`` for
    the defaults, which are the pipeline's). Plain Python values only (numpy's bool_ and integers
    arrive from data frames; they leave as bool and int), so it pickles, hashes and round-trips
    through JSON (``as_record`` / ``from_record``)."""

    hypothesis_template: str = DEFAULT_TEMPLATE
    multi_label: bool = False
    scoring: str = DEFAULT_SCORING
    prefilter_top_k: int | str | None = DEFAULT_PREFILTER_TOP_K  # K, "auto" (scoring auto's rule) or None (every label)
    long_text: str = DEFAULT_LONG_TEXT
    window_tokens: int | None = None

    @classmethod
    def of(cls, hypothesis_template: object = DEFAULT_TEMPLATE, multi_label: object = False, scoring: object = DEFAULT_SCORING,
           prefilter_top_k: object = DEFAULT_PREFILTER_TOP_K, long_text: object = DEFAULT_LONG_TEXT, window_tokens: object = None
           ) -> CallOptions:
        """Check each option's type, range and combination; InputError (a ValueError) names the problem."""
        checked_multi_label = _flag(multi_label, "multi_label")
        checked_scoring = _one_of(scoring, "scoring", tuple(SCORING_MODES))
        if isinstance(prefilter_top_k, str) and prefilter_top_k != "auto":
            raise InputTypeError(f"prefilter_top_k must be 'auto', null or a positive integer, got str {prefilter_top_k!r}")
        top_k = "auto" if prefilter_top_k == "auto" else count_option(prefilter_top_k, "prefilter_top_k", 1)
        if isinstance(top_k, int) and not scoring_mode(checked_scoring).uses_nli:
            raise InputError(f"prefilter_top_k narrows the labels NLI scores; scoring {checked_scoring!r} runs no NLI "
                             "(it scores every label from the embedding alone)")
        checked_long_text = _one_of(long_text, "long_text", LONG_TEXT_MODES)
        window = count_option(window_tokens, "window_tokens", 8)
        if window is not None and checked_long_text == "truncate":
            raise InputError("window_tokens applies to long_text 'max' or 'mean'")
        if not isinstance(hypothesis_template, str):
            raise InputTypeError(f"hypothesis_template must be a string, got {type_name(hypothesis_template)}")
        label_fields(hypothesis_template)
        return cls(str(hypothesis_template), checked_multi_label, checked_scoring, top_k, checked_long_text, window)

    def as_record(self) -> dict[str, Any]:
        """The options as a JSON object (a resume record, a Ray actor's arguments, a cache key)."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CallOptions:
        """Options back from ``as_record`` (or a request's parameters), checked again; unknown names are refused."""
        unknown = set(record) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(f.name for f in fields(cls))}")
        return cls.of(**record)

    def cache_key(self) -> str:
        """A short digest of every option: equal options, equal key (whatever built them)."""
        return hashlib.sha256(json.dumps(self.as_record(), sort_keys=True).encode()).hexdigest()[:32]

    def window_size(self) -> int | None:
        """Tokens per window with long_text "max"/"mean" (None: as many as the model has room for)."""
        if self.long_text == "truncate":
            return None
        return self.window_tokens or DEFAULT_WINDOW_TOKENS[self.long_text]

    def resolved_scoring(self, label_count: int, embedder: bool = True) -> str:
        """The mode a text with ``label_count`` labels runs: as asked, or what "auto" resolves to
        (scoring_modes.py: the hybrid where the classifier has an ``embedder``, exact NLI, so the
        pipeline, where it has none)."""
        mode = scoring_mode(self.scoring)
        if mode.resolve is None:
            return mode.name
        return mode.resolve(TextShape(self.multi_label, label_count, self.narrows(label_count, embedder), self.long_text, embedder))

    def top_k(self, label_count: int, embedder: bool = True) -> int | None:
        """How many of a text's ``label_count`` labels the prefilter keeps (None: every label).
        prefilter_top_k "auto" is scoring "auto"'s rule: a single-label call past
        ``AUTO_PREFILTER_MIN_LABELS`` labels, with an ``embedder``, keeps ``AUTO_PREFILTER_TOP_K``;
        any other call keeps every label (scoring "nli" is always the pipeline)."""
        if self.prefilter_top_k != "auto":
            return self.prefilter_top_k if isinstance(self.prefilter_top_k, int) else None
        if scoring_mode(self.scoring).auto_prefilter and not self.multi_label and embedder and label_count >= AUTO_PREFILTER_MIN_LABELS:
            return AUTO_PREFILTER_TOP_K
        return None

    def nli_labels(self, label_count: int, embedder: bool = True) -> int:
        """How many of a text's ``label_count`` labels NLI scores in each of its windows: none in a
        mode without NLI, at most K with a prefilter, else all (known before any work). Without
        knowing whether there is an ``embedder``, True gives the fewest, False the most."""
        if not scoring_mode(self.scoring).uses_nli:
            return 0
        return min(label_count, self.top_k(label_count, embedder) or label_count)

    def narrows(self, label_count: int, embedder: bool = True) -> bool:
        """Whether the prefilter drops some of ``label_count`` labels."""
        k = self.top_k(label_count, embedder)
        return k is not None and k < label_count


def _flag(value: object, name: str) -> bool:
    """A boolean: bool or numpy's bool_ (duck-typed, so numpy need not be imported)."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ in ("bool_", "bool") and type(value).__module__ == "numpy":
        return bool(value)
    raise InputTypeError(f"{name} must be a boolean, got {type_name(value)}")


def count_option(value: object, name: str, minimum: int) -> int | None:
    """An optional whole-number option: None, or an integer (not a bool) of at least ``minimum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be a positive integer, got {type_name(value)}")
    number = int(value)
    if number < minimum:
        raise InputError(f"{name} must be {'a positive integer' if minimum == 1 else f'at least {minimum}'}, got {number}")
    return number


def _one_of(value: object, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)
