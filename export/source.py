"""Inspect a checkpoint before exporting: is it an NLI sequence classifier zsc can serve?"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from zsc.engine.model_dir import derive_max_length, nli_label_ids

from .presets import SUPPORTED_ARCHITECTURES

logger = logging.getLogger("zsc")


@dataclass
class SourceModel:
    name: str
    config: Any  # transformers.PretrainedConfig
    tokenizer: Any  # transformers.PreTrainedTokenizerFast
    entailment_id: int
    contradiction_id: int
    max_length: int
    pad_token_id: int


def inspect_source(source: str, allow_no_entailment: bool = False) -> SourceModel:
    from transformers import AutoConfig, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"cannot read a Hugging Face config from {source!r}: {exc}") from exc
    except (TypeError, AttributeError, KeyError) as exc:  # config.json holds JSON of the wrong shape ([] or a string)
        raise ValueError(f"{source}: config.json is not a Hugging Face model config ({type(exc).__name__}: {exc})") from None
    architectures = list(config.architectures or [])
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise ValueError(
            f"{source} is not a sequence-classification model (architectures: {architectures or 'none'}); "
            "zero-shot classification needs an NLI classifier such as facebook/bart-large-mnli"
        )
    if config.model_type not in SUPPORTED_ARCHITECTURES:
        raise ValueError(
            f"unsupported architecture {config.model_type!r}; zsc export supports {sorted(SUPPORTED_ARCHITECTURES)}"
        )
    entailment, contradiction, found = nli_label_ids(dict(config.label2id), config.num_labels)
    if not found:
        message = (
            f"{source} has no label starting with 'entail' in label2id {dict(config.label2id)}; "
            "it does not look like an NLI model"
        )
        if not allow_no_entailment:
            raise ValueError(message + " (pass --allow-no-entailment to use the last logit, as transformers does)")
        logger.warning("%s; using the last logit as entailment, as transformers' pipeline does", message)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True)
    except (OSError, ValueError, TypeError) as exc:
        raise FileNotFoundError(f"cannot load a tokenizer for {source}: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{source} has no fast tokenizer (tokenizer.json); zsc needs one")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    tokenizer_config: dict[str, Any] = {"model_max_length": tokenizer.model_max_length}
    return SourceModel(
        name=source,
        config=config,
        tokenizer=tokenizer,
        entailment_id=entailment,
        contradiction_id=contradiction,
        max_length=derive_max_length(config.to_dict(), tokenizer_config),
        pad_token_id=int(pad if pad is not None else 0),
    )
