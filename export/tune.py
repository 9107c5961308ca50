"""tune_model(): few-shot adaptation of an NLI checkpoint, written as a normal zsc model directory.

Each labelled example becomes NLI pairs worded with the hypothesis template the runtime will use:
entailment for its own label, contradiction for up to ``negatives`` other labels drawn per example
(so 77 labels cost no more than 8). The checkpoint is fine-tuned on those pairs (AdamW, linear
warm-up and decay, one seed for the order, the negatives and the weights' dropout: the same
inputs give the same model), saved in a staging folder, and exported by ``export_model`` with a
``tuning`` record in the manifest. Torch is needed here only: the tuned directory runs on the
engine alone, like any export.
"""

from __future__ import annotations

import logging
import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsc.engine import DEFAULT_TEMPLATE, CallOptions
from zsc.engine.inputs import InputError, hypotheses_for, unusable_text
from zsc.engine.jobs.files import MAX_ROW_BYTES, InputFileError, read_records
from zsc.engine.manifest import Manifest
from zsc.engine.model_files import sha256_file

from .api import export_model
from .directory import checked_output
from .errors import ExamplesError, OptionError
from .pipeline import require_export_stack
from .source import inspect_source
from .train import fine_tune

logger = logging.getLogger("zsc")

DEFAULT_EPOCHS = 3
DEFAULT_LEARNING_RATE = 1e-4  # chosen on rottentomatoes and financialphrasebank (make bench-tune --sets ...), see README
DEFAULT_BATCH_SIZE = 16
DEFAULT_NEGATIVES = 7  # other labels per example, as contradiction pairs
TRAIN_MAX_TOKENS = 256  # pairs longer than this are cut (premise first) while training; few-shot texts are short


@dataclass(frozen=True)
class Example:
    line: int
    text: str
    label: str


def read_examples(path: str | Path, text_field: str = "text", label_field: str = "label",
                  max_row_bytes: int = MAX_ROW_BYTES) -> list[Example]:
    """Labelled examples from a .jsonl or .csv file, read as file jobs read rows (a row longer
    than ``max_row_bytes`` is refused unread, bytes that are not UTF-8 are named); every problem
    is a ValueError naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such examples file")
    if path.suffix.lower() not in (".jsonl", ".csv"):
        raise ExamplesError(f"{path}: examples must be a .jsonl or .csv file, got {path.suffix.lower()!r}")
    with open(path, "rb") as handle:
        try:
            examples = [_example(record, line, path, text_field, label_field)
                        for line, record in read_records(path, handle, (text_field, label_field), max_row_bytes)]
        except InputFileError as exc:
            raise ExamplesError(str(exc).replace("raise --max-row-bytes", "raise --max-row-bytes (zsc tune)")) from None
    if not examples:
        raise ExamplesError(f"{path} holds no examples")
    return examples


def _example(record: dict[str, Any], line: int, path: Path, text_field: str, label_field: str) -> Example:
    values = []
    for field, flag in ((text_field, "--text-field"), (label_field, "--label-field")):
        value = record.get(field)
        if field not in record:
            raise ExamplesError(f"{path}:{line}: no field {field!r} (fields: {sorted(record)}); name it with {flag}")
        if not isinstance(value, str) or unusable_text(value) is not None:
            raise ExamplesError(f"{path}:{line}: field {field!r} must be a non-empty string with something to read, got {_shown(value)}")
        values.append(value.strip() if field == label_field else value)
    try:
        hypotheses_for([values[1]], DEFAULT_TEMPLATE)  # the runtime's bound on a label, checked again with the template
    except InputError as exc:
        raise ExamplesError(f"{path}:{line}: field {label_field!r}: {exc}") from None
    return Example(line, values[0], values[1])


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def check_examples(examples: list[Example], labels: list[str] | None) -> list[str]:
    """The candidate labels (given, or as found in the examples in order of appearance), refusing
    fewer than two, examples of a label not in the list, and a listed label with no examples."""
    found = list(dict.fromkeys(e.label for e in examples))
    labels = list(dict.fromkeys(labels)) if labels else found
    unknown = [e for e in examples if e.label not in labels]
    if unknown:
        raise ExamplesError(f"line {unknown[0].line}: label {unknown[0].label!r} is not one of --labels {labels}")
    missing = [label for label in labels if label not in found]
    if missing:
        raise ExamplesError(f"label {missing[0]!r} has no examples; give at least one per label (or leave it out of --labels)")
    if len(labels) < 2:
        raise ExamplesError(f"tuning needs at least 2 labels, the examples have {labels}")
    return labels


def nli_pairs(examples: list[Example], labels: list[str], template: str, negatives: int, entailment_id: int,
              contradiction_id: int, rng: random.Random) -> list[tuple[str, str, int]]:
    """(premise, hypothesis, class) pairs: each example entails its label's hypothesis and
    contradicts up to ``negatives`` others drawn at random."""
    hypotheses = {label: template.format(label) for label in labels}
    pairs = []
    for example in examples:
        pairs.append((example.text, hypotheses[example.label], entailment_id))
        others = [label for label in labels if label != example.label]
        for label in rng.sample(others, min(negatives, len(others))):
            pairs.append((example.text, hypotheses[label], contradiction_id))
    return pairs


def _check_template(template: str) -> None:
    """The runtime's own rule for a template (the tuned model will be called with it): an InputError, a ValueError."""
    CallOptions.of(hypothesis_template=template)


def tune_model(
    source: str,
    output: str | Path,
    examples_path: str | Path,
    *,
    text_field: str = "text",
    label_field: str = "label",
    labels: list[str] | None = None,
    template: str = DEFAULT_TEMPLATE,
    epochs: int = DEFAULT_EPOCHS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    negatives: int = DEFAULT_NEGATIVES,
    seed: int = 0,
    quantize: str = "int8,fp16-w8",
    force: bool = False,
    progress: bool = True,
    max_row_bytes: int = MAX_ROW_BYTES,
) -> Manifest:
    """Fine-tune ``source`` (an NLI checkpoint: local folder or hub id) on the labelled examples in
    ``examples_path`` and export it to ``output``; returns the manifest. Every check on the
    examples, options and output runs before any training."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("negatives", negatives), ("max_row_bytes", max_row_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise OptionError(f"{name} must be a positive integer, got {value!r}")
    if not 0 < learning_rate < 1:
        raise OptionError(f"learning_rate must be between 0 and 1, got {learning_rate}")
    _check_template(template)
    examples = read_examples(examples_path, text_field, label_field, max_row_bytes)
    labels = check_examples(examples, labels)
    try:
        hypotheses_for(labels, template)  # every label as the runtime will build its hypothesis
    except InputError as exc:
        raise ExamplesError(f"--labels / the examples' labels: {exc}") from None
    checked_output(output, force, source)

    require_export_stack()

    model = inspect_source(source)
    rng = random.Random(seed)
    pairs = nli_pairs(examples, labels, template, negatives, model.entailment_id, model.contradiction_id, rng)
    counts = Counter(e.label for e in examples)
    record = {
        "base_model": source, "examples_sha256": sha256_file(Path(examples_path)), "examples": len(examples),
        "labels": labels, "examples_per_label": {label: counts[label] for label in labels}, "template": template,
        "epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size, "negatives": negatives,
        "pairs": len(pairs), "seed": seed,
    }
    logger.info("tuning %s on %d pairs from %d examples of %d labels", source, len(pairs), len(examples), len(labels))
    staging = Path(tempfile.mkdtemp(prefix="zsc-tune-"))
    try:
        checkpoint = fine_tune(model, pairs, staging / "checkpoint", epochs=epochs, learning_rate=learning_rate,
                               batch_size=batch_size, seed=seed, max_tokens=TRAIN_MAX_TOKENS, progress=progress)
        # The tuning pairs calibrate int8 too: they are what the tuned model will see.
        calibration = [(premise, hypothesis) for premise, hypothesis, _ in pairs[:512]]
        return export_model(str(checkpoint), output, quantize=quantize, force=force, validation_pairs=calibration,
                            progress=progress, manifest_fields={"source": source, "tuning": record})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
