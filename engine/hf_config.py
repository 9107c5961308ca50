"""Settings derived from Hugging Face files as transformers' pipeline derives them: the
entailment and contradiction ids, the label maps, the truncation length, and a whole manifest
for a plain optimum export that has no zsc.json."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .manifest import Manifest
from .model_files import CONFIG_FILE, MODEL_FILE, read_json

logger = logging.getLogger("zsc")


# Sentinel used by tokenizers for "no limit"; larger values mean the tokenizer set none.
_UNBOUNDED_LENGTH = 1_000_000
# Models whose position ids start after the padding index (RoBERTa family).
_POSITION_OFFSET_MODELS = {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet"}


def nli_label_ids(label2id: dict[str, int], num_labels: int) -> tuple[int, int, bool]:
    """Entailment and contradiction ids exactly as transformers' pipeline picks them.

    Returns (entailment_id, contradiction_id, found): entailment is the first label whose
    lower-cased name starts with "entail", else the last logit (-1) with found=False.
    Contradiction is 0 unless entailment is 0, then the last logit.
    """
    entailment = -1
    for label, index in label2id.items():
        if str(label).lower().startswith("entail"):
            entailment = int(index)
            break
    found = entailment != -1
    contradiction = -1 if entailment == 0 else 0
    # Normalise -1 to a real index so numpy indexing and the manifest agree.
    return entailment % num_labels, contradiction % num_labels, found


def label_maps(config: dict[str, Any], path: Path) -> tuple[dict[int, str], dict[str, int]]:
    """id2label and label2id from an HF config, each id a whole number, or a ValueError naming ``path``."""
    try:
        id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
        label2id = {str(k): int(v) for k, v in (config.get("label2id") or {v: k for k, v in id2label.items()}).items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: id2label and label2id must map whole-number ids and labels ({exc})") from None
    if not id2label:
        raise ValueError(f"{path} has no id2label: is this a classification model?")
    if not set(label2id.values()) <= set(id2label):
        raise ValueError(f"{path}: label2id names ids {sorted(set(label2id.values()) - set(id2label))} that id2label does not have")
    return id2label, label2id


def derive_max_length(config: dict[str, Any], tokenizer_config: dict[str, Any]) -> int:
    """The pipeline truncates to the tokenizer's model_max_length; fall back to positions."""
    declared = tokenizer_config.get("model_max_length")
    if isinstance(declared, (int, float)) and 0 < declared < _UNBOUNDED_LENGTH:
        return int(declared)
    positions = int(config.get("max_position_embeddings", 512))
    if config.get("model_type") in _POSITION_OFFSET_MODELS:
        positions -= 2
    return positions


def manifest_from_hf_files(directory: Path, model_file: str = MODEL_FILE) -> Manifest:
    """Build a manifest for a directory that has HF files but no zsc.json (plain optimum export)."""
    config = read_json(directory / CONFIG_FILE)
    tokenizer_config_path = directory / "tokenizer_config.json"
    tokenizer_config = read_json(tokenizer_config_path) if tokenizer_config_path.exists() else {}
    id2label, label2id = label_maps(config, directory / CONFIG_FILE)
    entailment, contradiction, found = nli_label_ids(label2id, len(id2label))
    if not found:
        logger.warning(
            "Failed to determine 'entailment' label id from the label mapping in the model config. "
            "Setting to -1. Define a descriptive label2id mapping in the model config to ensure correct outputs."
        )
    pad = tokenizer_config.get("pad_token_id", config.get("pad_token_id"))
    return Manifest(
        entailment_id=entailment,
        contradiction_id=contradiction,
        max_length=derive_max_length(config, tokenizer_config),
        pad_token_id=int(pad) if pad is not None else 0,
        id2label=id2label,
        model_type=str(config.get("model_type", "unknown")),
        model_file=model_file,
        precision="unknown",  # nothing records it; the graph could be fp32, fp16 or int8
    )
