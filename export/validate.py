"""Parity report: the exported graph, run by zsc.engine, against the torch model on real NLI pairs."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zsc.engine.manifest import Manifest

from .source import SourceModel

# Used when the caller gives no pairs: varied length, topic and label.
BUILTIN_PAIRS: list[tuple[str, str]] = [
    ("A man is playing a guitar on stage in front of a crowd.", "A musician is performing."),
    ("A man is playing a guitar on stage in front of a crowd.", "The stage is empty."),
    ("The company reported record profits for the third quarter.", "The company lost money."),
    ("The company reported record profits for the third quarter.", "This example is business."),
    ("Two dogs run through a snowy field.", "Animals are outside."),
    ("Two dogs run through a snowy field.", "The dogs are sleeping indoors."),
    ("The new phone's battery lasts two full days.", "This example is technology."),
    ("The new phone's battery lasts two full days.", "This example is sports."),
    ("She missed the train because she overslept.", "She was late."),
    ("The referee stopped the match after heavy rain flooded the pitch.", "The game was interrupted."),
    ("I bought this device last week and it already stopped working; I want a refund.", "This example is refund."),
    ("I bought this device last week and it already stopped working; I want a refund.", "This example is legal."),
    ("Scientists observed a new comet passing close to the sun.", "Astronomers saw something in space."),
    ("The parliament passed the budget after a long debate.", "This example is politics."),
    ("A child is eating an ice cream in the park on a hot summer afternoon while birds sing.", "It is winter."),
    ("Stocks fell sharply as investors worried about rising interest rates.", "Markets went up."),
]


@dataclass(frozen=True)
class ParityReport:
    pairs: int
    max_abs_logit_diff: float
    top1_agreement: float

    def as_dict(self) -> dict[str, float | int]:
        return {"pairs": self.pairs, "max_abs_logit_diff": self.max_abs_logit_diff, "top1_agreement": self.top1_agreement}


def torch_logits(source: SourceModel, pairs: list[tuple[str, str]], batch_size: int = 16) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(source.name).eval()
    accepted = set(inspect.signature(model.forward).parameters)
    tokenizer = source.tokenizer
    out = []
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            encoded = tokenizer(
                [p for p, _ in chunk], [h for _, h in chunk],
                truncation="only_first", max_length=source.max_length, padding=True, return_tensors="pt",
            )
            feeds = {k: v for k, v in encoded.items() if k in accepted}
            out.append(model(**feeds).logits.float().numpy())
    return np.concatenate(out)


def onnx_logits(graph: Path, tokenizer_path: Path, manifest: Manifest, pairs: list[tuple[str, str]]) -> np.ndarray:
    from zsc.engine import ZeroShotClassifier  # onnxruntime loads when a graph runs: `zsc --help` works without it

    classifier = ZeroShotClassifier.from_graph(graph, tokenizer_path, manifest)
    return classifier.nli_logits([p for p, _ in pairs], [h for _, h in pairs])


def batch_invariance(graph: Path, tokenizer_path: Path, manifest: Manifest, pairs: list[tuple[str, str]]) -> float:
    """Largest logit change of a pair computed alone against inside one batch of every pair.

    0 (or float rounding, ~1e-6) for a batch-invariant graph; dynamic int8 moves by tenths.
    """
    from zsc.engine import ZeroShotClassifier

    premises, hypotheses = [p for p, _ in pairs], [h for _, h in pairs]
    together = ZeroShotClassifier.from_graph(graph, tokenizer_path, manifest, batch_size=len(pairs), max_batch_tokens=1 << 30)
    # The same session and encoder, planned one pair per batch.
    alone = ZeroShotClassifier(together.model_dir, together.session, together.encoder, batch_size=1)
    return float(np.abs(together.nli_logits(premises, hypotheses) - alone.nli_logits(premises, hypotheses)).max())


def compare(reference: np.ndarray, candidate: np.ndarray) -> ParityReport:
    return ParityReport(
        pairs=int(reference.shape[0]),
        max_abs_logit_diff=float(np.abs(reference - candidate).max()),
        top1_agreement=float((reference.argmax(-1) == candidate.argmax(-1)).mean()),
    )
