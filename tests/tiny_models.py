"""Tiny random NLI models, one per supported architecture, built offline.

Each has a tokenizer trained with the `tokenizers` library on shared text, saved as a fast
tokenizer, a short model_max_length so truncation is exercised, and its own label order so
the entailment/contradiction rules are exercised too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MAX_LENGTH = 40


def training_corpus(limit: int = 1500) -> list[str]:
    lines = itertools.islice(open(SHARED / "data/zsc/ag_news/test.jsonl", encoding="utf-8"), limit)
    texts = [json.loads(line)["text"] for line in lines]
    return texts + [f"This example is {w}." for w in ("sports", "business", "world", "science", "refund", "legal")]


def _wordpiece(vocab_size: int = 600):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(training_corpus(), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tok


def _byte_level_bpe(vocab_size: int = 600):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_corpus(), trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return tok


def _unigram_metaspace(vocab_size: int = 600):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    tok.train_from_iterator(training_corpus(), trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="[UNK]"))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tok


def _save(model, tok, specials: dict[str, str], directory: Path, input_names: list[str]) -> Path:
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=MAX_LENGTH, model_input_names=input_names, **specials)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def _labels(order: list[str]) -> dict:
    return {"id2label": dict(enumerate(order)), "label2id": {name: i for i, name in enumerate(order)}}


def build_bert(directory: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    tok = _wordpiece()
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, initializer_range=0.1, num_labels=3, pad_token_id=0,
        **_labels(["contradiction", "neutral", "entailment"]),
    )
    specials = {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}
    return _save(BertForSequenceClassification(config).eval(), tok, specials, directory, ["input_ids", "token_type_ids", "attention_mask"])


def build_roberta(directory: Path) -> Path:
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    tok = _byte_level_bpe()
    torch.manual_seed(1)
    config = RobertaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH + 2, type_vocab_size=1, initializer_range=0.1, num_labels=3,
        pad_token_id=1, bos_token_id=0, eos_token_id=2,
        # cross-encoder order: entailment in the middle
        **_labels(["CONTRADICTION", "ENTAILMENT", "NEUTRAL"]),
    )
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
    return _save(RobertaForSequenceClassification(config).eval(), tok, specials, directory, ["input_ids", "attention_mask"])


def build_deberta_v2(directory: Path) -> Path:
    import torch
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    tok = _unigram_metaspace()
    torch.manual_seed(2)
    config = DebertaV2Config(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, type_vocab_size=0, relative_attention=True, position_buckets=16,
        pos_att_type=["p2c", "c2p"], position_biased_input=False, initializer_range=0.1, num_labels=3, pad_token_id=0,
        # entailment first: the pipeline then takes the last logit as contradiction
        **_labels(["entailment", "neutral", "contradiction"]),
    )
    specials = {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}
    return _save(DebertaV2ForSequenceClassification(config).eval(), tok, specials, directory, ["input_ids", "attention_mask"])


def build_bart(directory: Path) -> Path:
    import torch
    from transformers import BartConfig, BartForSequenceClassification

    tok = _byte_level_bpe()
    torch.manual_seed(3)
    config = BartConfig(
        vocab_size=tok.get_vocab_size(), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64, init_std=0.1,
        num_labels=3, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
        **_labels(["contradiction", "neutral", "entailment"]),
    )
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
    return _save(BartForSequenceClassification(config).eval(), tok, specials, directory, ["input_ids", "attention_mask"])


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "bert": build_bert,
    "roberta": build_roberta,
    "deberta-v2": build_deberta_v2,
    "bart": build_bart,
}
