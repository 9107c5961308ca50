"""What differs between exporting an NLI classifier and a sentence embedder, and nothing else: the
checkpoint's inspection, optimum's task, the manifest's task fields, the torch reference, how the
engine computes a graph's outputs, and how they are compared. ``pipeline.run_export`` does every
other step the same way for both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zsc.engine.hf_config import derive_max_length
from zsc.engine.manifest import Manifest, embedding_format
from zsc.engine.pooling import pool

from .calibrate import smoothing_factors
from .embedder_layout import read_embedder_layout
from .errors import SourceError
from .presets import SUPPORTED_ARCHITECTURES
from .source import check_local_weights, inspect_source, load_fast_tokenizer
from .validate import BUILTIN_PAIRS, batch_invariance, compare, onnx_logits, torch_logits


@dataclass(frozen=True)
class GraphCheck:
    """A graph's agreement with torch: the parity record, its outputs, and the largest difference."""

    report: dict[str, Any]
    outputs: np.ndarray
    worst: float


class NliTask:
    """A premise/hypothesis classifier: logits on NLI pairs, compared with the torch model's."""

    name = "nli"
    optimum_task = "text-classification"
    calibrates = True  # SmoothQuant factors from the fp32 graph's activations on the pairs
    prunes = True  # the top of the last layer may run on the pooled token alone
    prune_reason = None
    invariance_key = "batch_invariance_max_abs_logit_diff"
    outputs_are = "logits"

    def __init__(self, source: str, allow_no_entailment: bool, pairs: list[tuple[str, str]] | None) -> None:
        self.model = inspect_source(source, allow_no_entailment)
        self.source, self.config, self.tokenizer = source, self.model.config, self.model.tokenizer
        self.max_length = self.model.max_length
        self.pairs = list(pairs or BUILTIN_PAIRS)

    def manifest(self, **fields: Any) -> Manifest:
        return Manifest(entailment_id=self.model.entailment_id, contradiction_id=self.model.contradiction_id,
                        max_length=self.max_length, pad_token_id=self.model.pad_token_id,
                        id2label={int(k): str(v) for k, v in self.config.id2label.items()}, model_type=self.config.model_type,
                        task=self.name, **fields)

    def reference(self) -> np.ndarray:
        return torch_logits(self.model, self.pairs)

    def check(self, reference: np.ndarray, graph: Path, tokenizer: Path, manifest: Manifest) -> GraphCheck:
        outputs = onnx_logits(graph, tokenizer, manifest, self.pairs)
        report = compare(reference, outputs)
        return GraphCheck(report.as_dict(), outputs, report.max_abs_logit_diff)

    def parity(self, check: GraphCheck, fp32: GraphCheck) -> dict[str, Any]:
        """A quantised graph's record: its logits against torch's, as fp32's."""
        return dict(check.report)

    def batch_invariance(self, check: GraphCheck, graph: Path, tokenizer: Path, manifest: Manifest) -> float:
        """Each pair alone against every pair in one batch (the check's logits ran in the default batches)."""
        return batch_invariance(graph, tokenizer, manifest, self.pairs)

    def smoothing(self, graph: Path, tokenizer: Path, manifest: Manifest) -> dict[str, Any]:
        return smoothing_factors(graph, tokenizer, manifest, self.pairs)

    def runtime_outputs(self, directory: Path) -> tuple[np.ndarray, str]:
        """The int8 logits from a finished directory as the runtime loads it, and why it chose that graph."""
        from zsc.engine import ZeroShotClassifier

        classifier = ZeroShotClassifier.from_pretrained(directory, provider="cpu", precision="int8", verify=False)
        return classifier.nli_logits([p for p, _ in self.pairs], [h for _, h in self.pairs]), classifier.session.reason

    @property
    def inputs(self) -> str:
        return f"{len(self.pairs)} pairs"


# Texts an embedder is validated and measured on when none are given: varied lengths and topics.
BUILTIN_TEXTS = [
    "The stock market fell sharply after the central bank raised interest rates.",
    "Our team won the championship in overtime last night.",
    "A new telescope has photographed the atmosphere of a distant planet.",
    "I want a refund, the product arrived broken.",
    "card arrival", "This example is sports.", "How do I reset my password?",
    "The film was long, slow and beautifully shot; I loved every minute of it, even the ending that everyone hated.",
]


class EmbeddingTask:
    """A sentence encoder (its sentence-transformers pooling and prompt, L2-normalised): fp32
    compared with torch, the other graphs with the fp32 graph (cosine of each text's two embeddings)."""

    name = "embedding"
    optimum_task = "feature-extraction"
    calibrates = False  # per-row int8 without SmoothQuant: no pairs to calibrate on
    prunes = False
    prune_reason = "an embedder's pooling reads every token's state"
    invariance_key = "batch_invariance_max_abs_diff"
    outputs_are = "embeddings"

    def __init__(self, source: str, texts: list[str] | None, prompt_name: str | None = None, prompt: str | None = None) -> None:
        from transformers import AutoConfig

        self.source = source
        self.config = AutoConfig.from_pretrained(source)
        if self.config.model_type not in SUPPORTED_ARCHITECTURES:
            raise SourceError(f"unsupported architecture {self.config.model_type!r}; zsc export supports {sorted(SUPPORTED_ARCHITECTURES)}")
        self.tokenizer = load_fast_tokenizer(source)
        check_local_weights(source)
        self.texts = list(texts or BUILTIN_TEXTS)
        self.max_length = _embedder_max_length(source, self.config.to_dict(), self.tokenizer)
        self.layout = read_embedder_layout(source, prompt_name, prompt)

    def manifest(self, **fields: Any) -> Manifest:
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        layout = self.layout
        return Manifest(entailment_id=0, contradiction_id=0, max_length=self.max_length, pad_token_id=int(pad), id2label={},
                        model_type=self.config.model_type, task=self.name, pooling=layout.pooling, prompt=layout.prompt,
                        format=embedding_format(layout.pooling, layout.prompt), **fields)

    def reference(self) -> np.ndarray:
        """The checkpoint in torch: the prompt before each text, its pooling, L2-normalised."""
        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(self.source).eval()
        with torch.no_grad():
            self.tokenizer.padding_side = "right"  # the engine pads on the right; "lasttoken" reads the last real token
            batch = self.tokenizer([self.layout.prompt + text for text in self.texts], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt")
            states = model(**batch).last_hidden_state.numpy()
        return pool(states, batch["attention_mask"].numpy(), self.layout.pooling)

    def _embedded(self, graph: Path, tokenizer: Path, manifest: Manifest, one_at_a_time: bool = False) -> np.ndarray:
        from zsc.engine import TextEmbedder

        embedder = TextEmbedder.from_graph(graph, tokenizer, manifest, batch_size=len(self.texts), max_batch_tokens=1 << 30)
        if one_at_a_time:
            return np.concatenate([embedder.embed([text]) for text in self.texts])
        return embedder.embed(self.texts)

    def check(self, reference: np.ndarray, graph: Path, tokenizer: Path, manifest: Manifest) -> GraphCheck:
        outputs = self._embedded(graph, tokenizer, manifest)
        worst = float(np.abs(outputs - reference).max())
        return GraphCheck({"texts": len(self.texts), "max_abs_diff_vs_torch": worst}, outputs, worst)

    def parity(self, check: GraphCheck, fp32: GraphCheck) -> dict[str, Any]:
        """A quantised graph's record: the cosine of each text's embedding with its fp32 one (rows are unit vectors)."""
        cosines = (check.outputs * fp32.outputs).sum(axis=1)
        return {"texts": len(cosines), "min_cosine_vs_fp32": float(cosines.min()), "mean_cosine_vs_fp32": float(cosines.mean())}

    def batch_invariance(self, check: GraphCheck, graph: Path, tokenizer: Path, manifest: Manifest) -> float:
        """Each text alone against the check's embeddings, every text in one batch."""
        return float(np.abs(self._embedded(graph, tokenizer, manifest, one_at_a_time=True) - check.outputs).max())

    def smoothing(self, graph: Path, tokenizer: Path, manifest: Manifest) -> dict[str, Any]:
        raise AssertionError("embedders are not calibrated")

    def runtime_outputs(self, directory: Path) -> tuple[np.ndarray, str]:
        """The int8 embeddings from a finished directory as the runtime loads it, and why it chose that graph."""
        from zsc.engine import TextEmbedder

        embedder = TextEmbedder.from_pretrained(directory, provider="cpu", verify=False, precision="int8")
        return embedder.embed(self.texts), embedder.session.reason

    @property
    def inputs(self) -> str:
        return f"{len(self.texts)} texts"


ExportTask = NliTask | EmbeddingTask


def _embedder_max_length(source: str, config: dict[str, Any], tokenizer: Any) -> int:
    """sentence-transformers' max_seq_length when the checkpoint declares one, else the tokenizer's."""
    declared = Path(source) / "sentence_bert_config.json"
    if declared.is_file():
        length = json.loads(declared.read_text()).get("max_seq_length")
        if isinstance(length, int) and length > 0:
            return length
    return derive_max_length(config, {"model_max_length": tokenizer.model_max_length})
