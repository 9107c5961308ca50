"""ZeroShotClassifier: the public runtime API.

Its surface: ``from_pretrained`` / ``default`` / ``from_graph`` to load; ``__call__`` to classify
(what most users need); ``prepare`` → ``logits`` → ``finish``, the same call in three steps, so a
server can merge the pairs of several calls into shared batches; ``nli_logits`` for raw NLI
logits of (premise, hypothesis) pairs (validation, calibration, benchmarks).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypedDict, overload

import numpy as np

from .batching import BatchBudget
from .cpu import has_int8_dot_products
from .defaults import DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TOKENS
from .encoding import PairEncoder, PairSet
from .inputs import (
    DEFAULT_TEMPLATE,
    NO_LABEL_OR_SEQUENCE,
    InputError,
    InputTypeError,
    hypotheses_for,
    normalise_labels,
    normalise_texts,
)
from .model_dir import MANIFEST_NAME, Manifest, ModelDirectory, load_model_directory
from .scoring import label_scores, ranking
from .session import SessionInfo, create_session, run_logits

logger = logging.getLogger("zsc")



class Prediction(TypedDict):
    """One label's score; a call returns them ranked, highest first."""

    label: str
    score: float


class LegacyPrediction(TypedDict):
    """transformers' older result shape, for one text."""

    sequence: str
    labels: list[str]
    scores: list[float]


@dataclass
class PreparedCall:
    """A validated, tokenised call (from ``prepare``), ready for ``logits`` and ``finish``.

    ``pairs`` holds every text x label pair, text-major; pairs of several calls may be merged,
    computed together and split again, since no pair's logits depend on its batch-mates.
    """

    texts: list[str]
    labels: list[str]
    multi_label: bool
    single_text: bool
    pairs: PairSet


class ZeroShotClassifier:
    """Zero-shot text classification with an exported NLI model on onnxruntime.

    Scores follow transformers' ZeroShotClassificationPipeline exactly (same template, label
    parsing, normalisation and ranking); an fp32 export gives the pipeline's scores to 1e-5.
    A text's scores never depend on the other texts in a call or on ``batch_size``.

    >>> clf = ZeroShotClassifier.default()
    >>> clf("I want my money back", ["refund", "legal", "faq"])[0]["label"]
    'faq'

    Bad input raises :class:`~zsc.engine.inputs.InputError` (a ValueError); wrong types raise
    :class:`~zsc.engine.inputs.InputTypeError`, also a TypeError.
    """

    def __init__(
        self,
        model_dir: ModelDirectory,
        session: SessionInfo,
        encoder: PairEncoder,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> None:
        self.model_dir = model_dir
        self.session = session
        self.encoder = encoder
        budget = BatchBudget(batch_size, max_batch_tokens)  # ValueError for nonsense
        # A budget below the model's window would run every long pair alone: lift it to the window.
        self.budget = replace(budget, max_batch_tokens=max(max_batch_tokens, encoder.max_length))
        manifest = model_dir.manifest
        self.entailment_id = manifest.entailment_id
        self.contradiction_id = manifest.contradiction_id

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        provider: str = "auto",
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
        verify: bool = True,
    ) -> ZeroShotClassifier:
        """Load an exported model directory, or a hub repo id ("org/name") holding one.

        ``provider``: "auto" (CUDA when available and suited to the graph, else CPU), "cpu" or
        "cuda". ``threads``: onnxruntime intra-op threads (default: the CPUs this process may
        use). ``batch_size`` and ``max_batch_tokens`` bound each onnxruntime batch (pairs, and
        padded tokens). ``verify`` checks the files against the manifest's sha256 hashes.
        A path-like name that does not exist raises FileNotFoundError, never a hub lookup.
        """
        local = Path(path).expanduser()
        if not local.exists():
            if not _looks_like_hub_id(str(path)):
                raise FileNotFoundError(f"model directory not found: {local}")
            local = _download(str(path))
        model_dir = load_model_directory(local, verify=verify)
        manifest = model_dir.manifest
        warn_if_int8_saturates(manifest.precision, manifest.quantization_preset, provider)
        return cls.from_graph(model_dir.model_path, model_dir.tokenizer_path, manifest, provider, threads, batch_size, max_batch_tokens)

    @classmethod
    def default(cls, **kwargs: Any) -> ZeroShotClassifier:
        """The embedded per-row int8 model (minilm-l6-nli), shipped inside the package; no network.

        Takes the keyword arguments of ``from_pretrained``."""
        return cls.from_pretrained(default_model_path(), **kwargs)

    @classmethod
    def from_graph(
        cls,
        graph: str | Path,
        tokenizer: str | Path,
        manifest: Manifest,
        provider: str = "cpu",
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> ZeroShotClassifier:
        """A classifier over a graph, a tokenizer and a manifest: those of a model directory
        (``from_pretrained``), or ones the exporter checks and calibrates before it writes one."""
        graph = Path(graph)
        encoder = PairEncoder.from_file(tokenizer, manifest.max_length, manifest.pad_token_id)
        session = create_session(graph, provider, threads, num_labels=len(manifest.id2label), precision=manifest.precision)
        if manifest.input_names and set(manifest.input_names) != set(session.input_names):
            raise ValueError(
                f"{graph.parent}: {MANIFEST_NAME} lists inputs {manifest.input_names} but the graph takes "
                f"{list(session.input_names)}; the manifest does not describe this graph"
            )
        return cls(ModelDirectory(graph.parent, manifest), session, encoder, batch_size, max_batch_tokens)

    @property
    def compute_type(self) -> str:
        """Where the model runs: "cpu" or "cuda"."""
        return self.session.compute_type

    @property
    def precision(self) -> str:
        """The graph's precision from its manifest: "int8", "int8-dynamic", "fp16", "fp32" or "unknown"."""
        return self.model_dir.manifest.precision

    # str is a Sequence[str] too: the str overloads come first and win (as in typeshed).
    @overload
    def __call__(self, inputs: str, candidate_labels: str | Sequence[str], hypothesis_template: str = ...,  # type: ignore[overload-overlap]
                 multi_label: bool = ..., legacy: Literal[False] = ...) -> list[Prediction]: ...

    @overload
    def __call__(self, inputs: Sequence[str], candidate_labels: str | Sequence[str], hypothesis_template: str = ...,
                 multi_label: bool = ..., legacy: Literal[False] = ...) -> list[list[Prediction]]: ...

    @overload
    def __call__(self, inputs: str, candidate_labels: str | Sequence[str], hypothesis_template: str = ...,  # type: ignore[overload-overlap]
                 multi_label: bool = ..., *, legacy: Literal[True]) -> LegacyPrediction: ...

    @overload
    def __call__(self, inputs: Sequence[str], candidate_labels: str | Sequence[str], hypothesis_template: str = ...,
                 multi_label: bool = ..., *, legacy: Literal[True]) -> list[LegacyPrediction]: ...

    def __call__(
        self,
        inputs: str | Sequence[str],
        candidate_labels: str | Sequence[str],
        hypothesis_template: str = DEFAULT_TEMPLATE,
        multi_label: bool = False,
        legacy: bool = False,
    ) -> Any:
        """Classify one text (a ranked list of {label, score}) or a list of texts (a list of such lists).

        ``candidate_labels``: a list, or one comma-separated string. ``hypothesis_template``:
        where ``{}`` stands for the label. ``multi_label``: score each label on its own
        (entailment against contradiction) instead of a softmax over the labels.
        ``legacy=True`` returns transformers' older shape {sequence, labels, scores} instead.
        """
        prepared = self.prepare(inputs, candidate_labels, hypothesis_template, multi_label)
        return self.finish(prepared, self.logits(prepared.pairs), legacy=legacy)

    def nli_logits(self, premises: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        """Raw NLI logits, shape (pairs, classes), one row per (premise, hypothesis) position.

        Class order is the model's ``id2label``; the premise is truncated as the pipeline does.
        """
        return self.logits(self.encoder.zipped_pairs(list(premises), list(hypotheses)))

    def prepare(
        self,
        inputs: str | Sequence[str],
        candidate_labels: str | Sequence[str],
        hypothesis_template: str = DEFAULT_TEMPLATE,
        multi_label: bool = False,
    ) -> PreparedCall:
        """Validate and tokenise a call (every check of ``__call__``), without running the model."""
        texts, single = normalise_texts(inputs)
        labels = normalise_labels(candidate_labels)
        if not labels or not texts:
            raise InputError(NO_LABEL_OR_SEQUENCE)
        if not isinstance(multi_label, bool):
            raise InputTypeError(f"multi_label must be a boolean, got {type(multi_label).__name__}")
        hypotheses = hypotheses_for(labels, hypothesis_template)
        pairs = self.encoder.pairs(texts, hypotheses, labels)
        return PreparedCall(texts, labels, multi_label, single, pairs)

    @property
    def batch_size(self) -> int:
        return self.budget.max_batch_size

    @property
    def max_batch_tokens(self) -> int:
        return self.budget.max_batch_tokens

    def logits(self, pairs: PairSet) -> np.ndarray:
        """Logits (pairs, classes) in the pairs' order, computed in length-sorted batches
        (at most ``batch_size`` pairs and ``max_batch_tokens`` padded tokens each)."""
        out = np.empty((len(pairs), len(self.model_dir.manifest.id2label)), dtype=np.float32)
        for batch in self.budget.plan(self.pair_lengths(pairs)):
            out[batch] = self.run_batch(pairs.take(batch))
        return out

    def pair_lengths(self, pairs: PairSet) -> np.ndarray:
        """Tokens each pair takes in a batch, special tokens included (what ``budget`` counts)."""
        return pairs.lengths + self.encoder.layout.num_special

    def run_batch(self, pairs: PairSet) -> np.ndarray:
        """Logits of ``pairs`` as one onnxruntime run, as given: for callers that fill batches
        themselves under ``budget`` (the server's batcher). ``logits`` plans and calls this."""
        encoded = self.encoder.assemble(pairs)
        feeds = {
            "input_ids": encoded.input_ids,
            "attention_mask": encoded.attention_mask,
            "token_type_ids": encoded.token_type_ids,
        }
        return run_logits(self.session, feeds)

    def finish(self, prepared: PreparedCall, logits: np.ndarray, legacy: bool = False) -> Any:
        """Scores and rankings from the logits of ``prepared.pairs``, shaped as ``__call__`` returns them."""
        n_texts, n_labels = len(prepared.texts), len(prepared.labels)
        shaped = logits.reshape(n_texts, n_labels, -1)
        scores = label_scores(shaped, self.entailment_id, self.contradiction_id, prepared.multi_label)
        results: list[Any] = []
        for text, row in zip(prepared.texts, scores):
            order = ranking(row)
            if legacy:
                results.append({
                    "sequence": text,
                    "labels": [prepared.labels[i] for i in order],
                    "scores": [float(row[i]) for i in order],
                })
            else:
                results.append([{"label": prepared.labels[i], "score": float(row[i])} for i in order])
        return results[0] if prepared.single_text else results


def warn_if_int8_saturates(precision: str, preset: str | None, provider: str) -> None:
    """int8 weights made for VNNI/arm64 can overflow AVX2's 16-bit u8 x s8 products: say so loudly."""
    if precision.startswith("int8") and preset in ("avx512_vnni", "arm64") and provider != "cuda" and not has_int8_dot_products():
        logger.warning(
            "this %s model was exported with the %s preset, whose 8-bit weights can saturate on a CPU without "
            "VNNI like this one (scores may be wrong); re-export with --preset avx2, which is correct on every CPU",
            precision, preset,
        )


def default_model_path() -> Path:
    path = Path(str(resources.files("zsc.engine.models") / "default"))
    if not (path / "model.onnx").exists():
        raise FileNotFoundError(
            f"the embedded default model is missing from {path}; build it with `make default-model` "
            "or pass a model directory"
        )
    return path


def _looks_like_hub_id(name: str) -> bool:
    """True for an "org/name" that cannot be a local path.

    No ./, ../, / or ~ prefix, no backslash, and no local folder "org": "out/x" next to an
    existing out/ is a mistyped path, not a hub id.
    """
    parts = name.split("/")
    return (
        len(parts) == 2 and all(parts) and "\\" not in name
        and not name.startswith((".", "~")) and not Path(parts[0]).exists()
    )


def _download(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - tokenizers depends on huggingface_hub
        raise ValueError(f"{repo_id} is not a local directory and huggingface_hub is not installed") from exc
    logger.info("downloading %s from the Hugging Face hub", repo_id)
    return Path(snapshot_download(repo_id))
