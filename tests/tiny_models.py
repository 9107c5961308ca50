"""Tiny random NLI models, one per supported architecture, built offline (random_checkpoints.py beside this file).

Each has a tokenizer trained with the `tokenizers` library on shared text, saved as a fast
tokenizer, a short model_max_length so truncation is exercised, and its own label order so
the entailment/contradiction rules are exercised too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

from random_checkpoints import (
    BERT_LAYOUT,
    BERT_SPECIALS,
    ROBERTA_LAYOUT,
    ROBERTA_SPECIALS,
    byte_level_bpe,
    label_maps,
    save_checkpoint,
    unigram_metaspace,
    wordpiece,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MAX_LENGTH = 40


# Sentences in the scripts the multilingual tests use, so the multilingual tokenizers learn them.
MULTILINGUAL = ["Este ejemplo es deportes.", "Dieser Text handelt von Wirtschaft.", "这是一个关于体育的例子。", "هذا مثال عن الرياضة.",
                "यह खेल के बारे में एक उदाहरण है।", "Это пример о спорте.", "C'est un exemple de politique.", "🙂 🚀 ⚽"]


def training_corpus(limit: int = 1500, multilingual: bool = False) -> list[str]:
    lines = itertools.islice(open(SHARED / "data/zsc/ag_news/test.jsonl", encoding="utf-8"), limit)
    texts = [json.loads(line)["text"] for line in lines]
    extra = MULTILINGUAL * 20 if multilingual else []
    return texts + [f"This example is {w}." for w in ("sports", "business", "world", "science", "refund", "legal")] + extra




def _wordpiece(vocab_size: int = 600, layout: tuple[str, str] = BERT_LAYOUT):
    return wordpiece(training_corpus(), vocab_size, layout)


def _byte_level_bpe(vocab_size: int = 600, layout: tuple[str, str] = ROBERTA_LAYOUT, multilingual: bool = False):
    return byte_level_bpe(training_corpus(multilingual=multilingual), vocab_size, layout)


def _unigram_metaspace(vocab_size: int = 600, layout: tuple[str, str] = BERT_LAYOUT, multilingual: bool = False):
    return unigram_metaspace(training_corpus(multilingual=multilingual), vocab_size, layout)


def _save(model, tok, specials: dict[str, str], directory: Path, input_names: list[str]) -> Path:
    return save_checkpoint(model, tok, specials, directory, input_names, MAX_LENGTH)


_labels = label_maps


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
    specials = BERT_SPECIALS
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
    specials = ROBERTA_SPECIALS
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
    specials = BERT_SPECIALS
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
    specials = ROBERTA_SPECIALS
    return _save(BartForSequenceClassification(config).eval(), tok, specials, directory, ["input_ids", "attention_mask"])


TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "initializer_range": 0.1,
        "num_labels": 3}


def build_xlm_roberta(directory: Path) -> Path:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    tok = _unigram_metaspace(layout=ROBERTA_LAYOUT, multilingual=True)
    torch.manual_seed(4)
    config = XLMRobertaConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=MAX_LENGTH + 2, type_vocab_size=1,
                              pad_token_id=1, bos_token_id=0, eos_token_id=2, **TINY,
                              **_labels(["entailment", "neutral", "contradiction"]))  # xlm-roberta-large-xnli's order
    return _save(XLMRobertaForSequenceClassification(config).eval(), tok, ROBERTA_SPECIALS, directory, ["input_ids", "attention_mask"])


def build_distilbert(directory: Path) -> Path:
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    tok = _wordpiece()
    torch.manual_seed(5)
    config = DistilBertConfig(vocab_size=tok.get_vocab_size(), dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=64,
                              initializer_range=0.1, num_labels=3, pad_token_id=0,
                              **_labels(["ENTAILMENT", "NEUTRAL", "CONTRADICTION"]))  # distilbert-base-uncased-mnli's order
    return _save(DistilBertForSequenceClassification(config).eval(), tok, BERT_SPECIALS, directory, ["input_ids", "attention_mask"])


def build_modernbert(directory: Path) -> Path:
    import torch
    from transformers import ModernBertConfig, ModernBertForSequenceClassification

    tok = _byte_level_bpe(layout=BERT_LAYOUT, multilingual=True)
    torch.manual_seed(6)
    # Three layers with a global layer every second one and an 8-token local window: both kinds
    # of attention run on the tiny model's 40-token texts.
    config = ModernBertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=64, local_attention=8, global_attn_every_n_layers=2,
                              initializer_range=0.1, num_labels=3, pad_token_id=tok.token_to_id("[PAD]"),
                              cls_token_id=tok.token_to_id("[CLS]"), sep_token_id=tok.token_to_id("[SEP]"),
                              bos_token_id=tok.token_to_id("[CLS]"), eos_token_id=tok.token_to_id("[SEP]"),
                              reference_compile=False, attn_implementation="eager",
                              **_labels(["entailment", "not_entailment", "contradiction"]))
    return _save(ModernBertForSequenceClassification(config).eval(), tok, BERT_SPECIALS, directory, ["input_ids", "attention_mask"])


def build_electra(directory: Path) -> Path:
    import torch
    from transformers import ElectraConfig, ElectraForSequenceClassification

    tok = _wordpiece()
    torch.manual_seed(7)
    # embedding_size < hidden_size: ELECTRA's projected embeddings
    config = ElectraConfig(vocab_size=tok.get_vocab_size(), embedding_size=16, max_position_embeddings=64, pad_token_id=0, **TINY,
                           **_labels(["contradiction", "entailment", "neutral"]))  # cross-encoder/nli-electra order
    return _save(ElectraForSequenceClassification(config).eval(), tok, BERT_SPECIALS, directory,
                 ["input_ids", "token_type_ids", "attention_mask"])


def build_mpnet(directory: Path) -> Path:
    import torch
    from transformers import MPNetConfig, MPNetForSequenceClassification

    tok = _wordpiece(layout=ROBERTA_LAYOUT)
    torch.manual_seed(8)
    # 32 relative-position buckets: transformers' MPNet buckets positions into 32 whatever the config says.
    config = MPNetConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=MAX_LENGTH + 2, relative_attention_num_buckets=32,
                         pad_token_id=1, bos_token_id=0, eos_token_id=2, **TINY,
                         **_labels(["contradiction", "entailment", "neutral"]))
    specials = ROBERTA_SPECIALS | {"unk_token": "[UNK]"}
    return _save(MPNetForSequenceClassification(config).eval(), tok, specials, directory, ["input_ids", "attention_mask"])


def build_albert(directory: Path) -> Path:
    import torch
    from transformers import AlbertConfig, AlbertForSequenceClassification

    tok = _unigram_metaspace()
    torch.manual_seed(9)
    # Factorised embeddings (16 -> 32) and one group of shared layers, as ALBERT has.
    config = AlbertConfig(vocab_size=tok.get_vocab_size(), embedding_size=16, max_position_embeddings=64, num_hidden_groups=1,
                          pad_token_id=0, classifier_dropout_prob=0.0, **TINY,
                          **_labels(["entailment", "neutral", "contradiction"]))
    return _save(AlbertForSequenceClassification(config).eval(), tok, BERT_SPECIALS, directory,
                 ["input_ids", "token_type_ids", "attention_mask"])


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "bert": build_bert,
    "roberta": build_roberta,
    "deberta-v2": build_deberta_v2,
    "bart": build_bart,
    "xlm-roberta": build_xlm_roberta,
    "distilbert": build_distilbert,
    "modernbert": build_modernbert,
    "electra": build_electra,
    "mpnet": build_mpnet,
    "albert": build_albert,
}
