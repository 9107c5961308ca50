"""Random-weight NLI checkpoints, built offline: a tokenizer trained with `tokenizers` on a corpus
the caller gives, and a model of any shape from its config, saved as a Hugging Face directory.

zsc's tests build tiny ones of every supported architecture; `make bench-large` builds ones with
the exact shapes of production checkpoints (bart-large-mnli, deberta-v3-base, ...) to measure
speed, memory and export without downloading them. Random weights say nothing about accuracy.
Test support, so it lives beside the tests and is not shipped in the wheel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Pair layouts: BERT's [CLS] A [SEP] B [SEP] (token types 0 then 1) or RoBERTa's <s> A </s></s> B </s> (no types).
BERT_LAYOUT, ROBERTA_LAYOUT = ("[CLS]", "[SEP]"), ("<s>", "</s>")
BERT_SPECIALS = {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}
ROBERTA_SPECIALS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>",
                    "sep_token": "</s>", "mask_token": "<mask>"}


def _trained(tok: Any, trainer: Any, corpus: list[str], layout: tuple[str, str]) -> Any:
    """Train ``tok`` on ``corpus`` and give it the pair layout's post-processor."""
    from tokenizers import processors

    tok.train_from_iterator(corpus, trainer)
    first, sep = layout
    ids = [(first, tok.token_to_id(first)), (sep, tok.token_to_id(sep))]
    if layout == ROBERTA_LAYOUT:
        tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=ids)
    else:
        tok.post_processor = processors.TemplateProcessing(single=f"{first} $A {sep}", pair=f"{first} $A {sep} $B:1 {sep}:1",
                                                           special_tokens=ids)
    return tok


def wordpiece(corpus: list[str], vocab_size: int = 600, layout: tuple[str, str] = BERT_LAYOUT) -> Any:
    """Lower-cased WordPiece (BERT, DistilBERT, ELECTRA; MPNet with the RoBERTa layout)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] if layout == BERT_LAYOUT else ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"]
    return _trained(tok, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials), corpus, layout)


def byte_level_bpe(corpus: list[str], vocab_size: int = 600, layout: tuple[str, str] = ROBERTA_LAYOUT) -> Any:
    """Byte-level BPE (RoBERTa, BART; ModernBERT's GPT-NeoX-style one with the BERT layout)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] if layout == ROBERTA_LAYOUT else ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    return _trained(tok, trainer, corpus, layout)


def unigram_metaspace(corpus: list[str], vocab_size: int = 600, layout: tuple[str, str] = BERT_LAYOUT) -> Any:
    """SentencePiece-style Unigram with metaspace (DeBERTa-v3, ALBERT; XLM-R with the RoBERTa layout)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    unk = "[UNK]" if layout == BERT_LAYOUT else "<unk>"
    specials = ["[PAD]", "[CLS]", "[SEP]", unk, "[MASK]"] if layout == BERT_LAYOUT else ["<s>", "<pad>", "</s>", unk, "<mask>"]
    return _trained(tok, trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token=unk), corpus, layout)


def label_maps(order: list[str]) -> dict[str, dict]:
    """id2label and label2id for an NLI head whose classes come in ``order``."""
    return {"id2label": dict(enumerate(order)), "label2id": {name: i for i, name in enumerate(order)}}


def save_checkpoint(model: Any, tok: Any, specials: dict[str, str], directory: Path, input_names: list[str], max_length: int) -> Path:
    """``model`` and ``tok`` (as a fast tokenizer with ``specials``) in a Hugging Face directory."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, model_input_names=input_names, **specials)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory
