"""The metrics and data helpers every benchmark shares, defined once; scoring formulas come from
the engine itself (``zsc.engine.scoring``, a model's ``head``) so what is measured is what ships."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import numpy as np


def label_phrase(label: str) -> str:
    """How a dataset label is put to the model: underscores and slashes become spaces."""
    return label.replace("_", " ").replace("/", " ")


def labelled_sample(folder: Path, rows: int, seed: int) -> tuple[list[str], np.ndarray, list[str]]:
    """``rows`` rows of a single-label set (``folder``: test.jsonl, labels.json) drawn with
    ``seed``: texts, gold label indices, and the labels as phrases."""
    labels = json.loads((folder / "labels.json").read_text())
    with open(folder / "test.jsonl", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    drawn = random.Random(seed).sample(records, min(rows, len(records)))
    return [r["text"] for r in drawn], np.array([labels.index(r["label"]) for r in drawn]), [label_phrase(x) for x in labels]


def nli_and_cosine(clf, texts: list[str], labels: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One NLI pass over every (text, label) pair, (texts, labels, classes), and one embedding pass:
    the texts' cosine with the labels, and the label vectors. A pair's logits never depend on the
    other pairs (per-row int8 is batch-invariant), so every mode's scores can come from these."""
    logits = clf.logits(clf.prepare(texts, labels, scoring="nli", prefilter_top_k=None).pairs).reshape(len(texts), len(labels), -1)
    label_vectors = clf.embedder.embed(labels)
    return logits, clf.embedder.embed(texts) @ label_vectors.T, label_vectors


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
