"""Inspect a checkpoint before exporting: is it an NLI sequence classifier zsc can serve?"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from zsc.engine.hf_config import derive_max_length, label_maps, nli_label_ids
from zsc.engine.manifest import MIN_PAIR_TOKENS
from zsc.engine.model_files import TOKENIZER_FILE

from .errors import SourceError
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
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"cannot read a Hugging Face config from {source!r}: {exc}") from exc
    except (TypeError, AttributeError, KeyError) as exc:  # config.json holds JSON of the wrong shape ([] or a string)
        raise SourceError(f"{source}: config.json is not a Hugging Face model config ({type(exc).__name__}: {exc})") from None
    architectures = list(config.architectures or [])
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise SourceError(
            f"{source} is not a sequence-classification model (architectures: {architectures or 'none'}); "
            "zero-shot classification needs an NLI classifier such as facebook/bart-large-mnli"
        )
    if config.model_type not in SUPPORTED_ARCHITECTURES:
        raise SourceError(
            f"unsupported architecture {config.model_type!r}; zsc export supports {sorted(SUPPORTED_ARCHITECTURES)}"
        )
    try:
        _, label2id = label_maps({"id2label": dict(config.id2label), "label2id": dict(config.label2id)}, Path(source) / "config.json")
    except ValueError as exc:
        raise SourceError(f"{source}: config.json's label2id must map labels to whole-number ids of id2label ({exc})") from None
    entailment, contradiction, found = nli_label_ids(label2id, config.num_labels)
    if not found:
        message = (
            f"{source} has no label starting with 'entail' in label2id {dict(config.label2id)}; "
            "it does not look like an NLI model"
        )
        if not allow_no_entailment:
            raise SourceError(message + " (pass --allow-no-entailment to use the last logit, as transformers does)")
        logger.warning("%s; using the last logit as entailment, as transformers' pipeline does", message)
    tokenizer = load_fast_tokenizer(source)
    check_local_weights(source)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    tokenizer_config: dict[str, Any] = {"model_max_length": tokenizer.model_max_length}
    max_length = derive_max_length(config.to_dict(), tokenizer_config)
    if max_length < MIN_PAIR_TOKENS:
        raise SourceError(f"{source}: a model_max_length of {max_length} tokens (tokenizer_config.json) leaves no room for a "
                         f"premise and a hypothesis; it needs at least {MIN_PAIR_TOKENS}")
    return SourceModel(
        name=source,
        config=config,
        tokenizer=tokenizer,
        entailment_id=entailment,
        contradiction_id=contradiction,
        max_length=max_length,
        pad_token_id=int(pad if pad is not None else 0),
    )


def load_fast_tokenizer(source: str) -> Any:
    """transformers' fast tokenizer of ``source``; a missing, damaged or foreign tokenizer file is
    a ValueError naming it (tokenizers raises a bare Exception, transformers an AttributeError)."""
    from transformers import AutoTokenizer

    local = Path(source) / TOKENIZER_FILE
    if local.is_file():
        try:
            Tokenizer.from_file(str(local))
        except Exception as exc:  # tokenizers' own errors are bare Exceptions
            raise SourceError(f"{local}: not a tokenizers file ({exc})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True)
    except Exception as exc:
        raise SourceError(f"{source}: cannot load its tokenizer ({type(exc).__name__}: {exc}); zsc needs a fast tokenizer "
                         f"({TOKENIZER_FILE})") from None
    if not getattr(tokenizer, "is_fast", False):
        raise SourceError(f"{source} has no fast tokenizer ({TOKENIZER_FILE}); zsc needs one")
    return tokenizer


def check_local_weights(source: str) -> None:
    """Read each safetensors header of a local checkpoint before any work: a damaged or truncated
    file is a message naming it, not a traceback from deep inside the exporter."""
    from safetensors import safe_open

    folder = Path(source)
    for weights in sorted(folder.glob("*.safetensors")) if folder.is_dir() else []:
        try:
            with safe_open(str(weights), framework="np") as handle:
                handle.keys()
        except Exception as exc:  # safetensors raises its own SafetensorError (not an OSError)
            raise SourceError(f"{weights}: a damaged or truncated safetensors file ({exc})") from None
