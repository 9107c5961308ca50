"""ZeroShotClassifier: the public runtime API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .batching import plan_batches
from .encoding import PairEncoder, PairSet
from .inputs import DEFAULT_TEMPLATE, NO_LABEL_OR_SEQUENCE, hypotheses_for, normalise_labels, normalise_texts
from .model_dir import ModelDirectory, load_model_directory
from .scoring import label_scores, ranking
from .session import SessionInfo, create_session, run_logits

logger = logging.getLogger("zsc")

Prediction = dict[str, Any]  # {"label": str, "score": float}

DEFAULT_BATCH_SIZE = 16
DEFAULT_BATCH_TOKENS = 2048


@dataclass
class PreparedCall:
    """A validated, tokenised call, ready for logits; lets a server merge calls into shared batches."""

    texts: list[str]
    labels: list[str]
    multi_label: bool
    single_text: bool
    pairs: PairSet


class ZeroShotClassifier:
    def __init__(
        self,
        model_dir: ModelDirectory,
        session: SessionInfo,
        encoder: PairEncoder,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> None:
        if batch_size < 1 or max_batch_tokens < 1:
            raise ValueError("batch_size and max_batch_tokens must be positive")
        self.model_dir = model_dir
        self.session = session
        self.encoder = encoder
        self.batch_size = batch_size
        self.max_batch_tokens = max(max_batch_tokens, encoder.max_length)
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
        """Load an exported model directory (or a hub repo holding one, fetched with huggingface_hub)."""
        local = Path(path).expanduser()
        if not local.exists() and _looks_like_hub_id(str(path)):
            local = _download(str(path))
        model_dir = load_model_directory(local, verify=verify)
        manifest = model_dir.manifest
        encoder = PairEncoder.from_file(model_dir.tokenizer_path, manifest.max_length, manifest.pad_token_id)
        session = create_session(model_dir.model_path, provider, threads, num_labels=len(manifest.id2label))
        return cls(model_dir, session, encoder, batch_size, max_batch_tokens)

    @classmethod
    def default(cls, **kwargs: Any) -> ZeroShotClassifier:
        """The embedded int8 model (minilm-l6-nli), shipped inside the package."""
        return cls.from_pretrained(default_model_path(), **kwargs)

    @property
    def compute_type(self) -> str:
        return self.session.compute_type

    def __call__(
        self,
        inputs: str | Sequence[str],
        candidate_labels: str | Sequence[str],
        hypothesis_template: str = DEFAULT_TEMPLATE,
        multi_label: bool = False,
        legacy: bool = False,
    ) -> Any:
        """Classify one text (a ranked list of {label, score}) or a list of texts (a list of such lists).

        ``legacy=True`` returns transformers' older shape {sequence, labels, scores} instead.
        """
        prepared = self.prepare(inputs, candidate_labels, hypothesis_template, multi_label)
        return self.finish(prepared, self.logits(prepared.pairs), legacy=legacy)

    def prepare(
        self,
        inputs: str | Sequence[str],
        candidate_labels: str | Sequence[str],
        hypothesis_template: str = DEFAULT_TEMPLATE,
        multi_label: bool = False,
    ) -> PreparedCall:
        texts, single = normalise_texts(inputs)
        labels = normalise_labels(candidate_labels)
        if not labels or not texts:
            raise ValueError(NO_LABEL_OR_SEQUENCE)
        if not isinstance(multi_label, bool):
            raise ValueError(f"multi_label must be a boolean, got {type(multi_label).__name__}")
        hypotheses = hypotheses_for(labels, hypothesis_template)
        pairs = self.encoder.pairs(texts, hypotheses, labels)
        return PreparedCall(texts, labels, multi_label, single, pairs)

    def logits(self, pairs: PairSet) -> np.ndarray:
        """Logits (pairs, classes) in the pairs' order, computed in length-sorted batches."""
        lengths = pairs.lengths
        out = np.empty((len(pairs), len(self.model_dir.manifest.id2label)), dtype=np.float32)
        for batch in plan_batches(lengths + self.encoder.layout.num_special, self.batch_size, self.max_batch_tokens):
            encoded = self.encoder.assemble(pairs.take(batch))
            feeds = {
                "input_ids": encoded.input_ids,
                "attention_mask": encoded.attention_mask,
                "token_type_ids": encoded.token_type_ids,
            }
            out[batch] = run_logits(self.session, feeds)
        return out

    def finish(self, prepared: PreparedCall, logits: np.ndarray, legacy: bool = False) -> Any:
        n_texts, n_labels = len(prepared.texts), len(prepared.labels)
        shaped = logits.reshape(n_texts, n_labels, -1)
        scores = label_scores(shaped, self.entailment_id, self.contradiction_id, prepared.multi_label)
        results = []
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


def default_model_path() -> Path:
    path = Path(str(resources.files("zsc.engine.models") / "default"))
    if not (path / "model.onnx").exists():
        raise FileNotFoundError(
            f"the embedded default model is missing from {path}; build it with `make default-model` "
            "or pass a model directory"
        )
    return path


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~"))


def _download(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - tokenizers depends on huggingface_hub
        raise ValueError(f"{repo_id} is not a local directory and huggingface_hub is not installed") from exc
    logger.info("downloading %s from the Hugging Face hub", repo_id)
    return Path(snapshot_download(repo_id))
