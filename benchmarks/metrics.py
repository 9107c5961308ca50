"""The metrics and data helpers every benchmark shares, defined once; scoring formulas come from
the engine itself (``zsc.engine.scoring``, a model's ``head``) so what is measured is what ships."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np


def label_phrase(label: str) -> str:
    """How a dataset label is put to the model: underscores and slashes become spaces."""
    return label.replace("_", " ").replace("/", " ")


def read_jsonl(path: Path, limit: int) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in itertools.islice(lines, limit)]


def macro_f1(gold: list[str], predicted: list[str], labels: list[str]) -> float:
    """Mean over ``labels`` of each label's F1 (single-label predictions)."""
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def micro_f1(gold: list[set[str]], predicted: list[set[str]]) -> float:
    """Micro-F1 of multi-label predictions, each row a set of labels."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted))
    fp = sum(len(p - g) for g, p in zip(gold, predicted))
    fn = sum(len(g - p) for g, p in zip(gold, predicted))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def micro_f1_matrix(gold: np.ndarray, predicted: np.ndarray) -> float:
    """``micro_f1`` over boolean (rows, labels) matrices, in the same argument order."""
    tp = float((predicted & gold).sum())
    return 2 * tp / float(predicted.sum() + gold.sum()) if tp else 0.0
