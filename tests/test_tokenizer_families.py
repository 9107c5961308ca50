"""The tokenizer splice equals transformers' own pair encoding, byte for byte, for every tokenizer
family zsc exports: WordPiece (BERT, DistilBERT, ELECTRA, and MPNet's <s> A </s></s> B </s>
variant), byte-level BPE (RoBERTa, BART, ModernBERT's [CLS] A [SEP] B [SEP]), and SentencePiece
Unigram (XLM-R's <s> A </s></s> B </s> without token types; ALBERT's and DeBERTa's with them),
on texts in seven scripts, texts far over the max length, and labels in other scripts."""

from __future__ import annotations

import pytest
from tiny_models import BUILDERS, MULTILINGUAL

from zsc.engine.encoding import PairEncoder
from zsc.engine.inputs import InputError, hypotheses_for

FAMILY = {"bert": "WordPiece", "distilbert": "WordPiece", "electra": "WordPiece", "mpnet": "WordPiece, <s> A </s></s> B </s>",
          "roberta": "byte-level BPE", "bart": "byte-level BPE", "modernbert": "byte-level BPE, [CLS] A [SEP] B [SEP]",
          "xlm-roberta": "Unigram, <s> A </s></s> B </s>", "albert": "Unigram", "deberta-v2": "Unigram"}
PREMISES = [
    "A short one.",
    "这是一个关于体育的例子，比赛很精彩。",
    "هذا مثال عن الرياضة والاقتصاد في العالم العربي.",
    "यह खेल के बारे में एक उदाहरण है और यह बहुत लंबा है।",
    "Это пример о спорте, экономике и политике.",
    "Emoji 🙂🚀⚽ and ZWJ 👩‍💻 sequences",
    "Ünïcödé — naïve café 東京 🚀",
    "word " * 300,  # far over the max length: only the premise is cut
    "中文" * 400 + " end",  # over the max length without spaces
    " ".join(MULTILINGUAL) * 10,
]
LABELS = ["deportes", "Wirtschaft", "体育", "الرياضة", "खेल", "спорт", "🙂", "a much longer label with several words"]
TEMPLATES = ["This example is {}.", "Este ejemplo es {}.", "Dieser Text handelt von {}.", "这个例子是关于{}的。"]


def test_every_architecture_has_a_family():
    assert set(FAMILY) == set(BUILDERS)


@pytest.mark.parametrize("arch", sorted(BUILDERS))
def test_splice_equals_transformers_pair_encoding(arch, tiny_hf):
    from transformers import AutoTokenizer

    directory = tiny_hf(arch)
    hf = AutoTokenizer.from_pretrained(directory)
    encoder = PairEncoder.from_file(directory / "tokenizer.json", hf.model_max_length, hf.pad_token_id)
    room = hf.model_max_length - encoder.layout.num_special
    checked = 0
    for template in TEMPLATES:
        # A hypothesis that leaves the premise no room (a byte-level BPE trained on English spends a
        # token per byte of Arabic): transformers cannot truncate it either, and zsc says which label.
        fits = [label for label in LABELS if len(hf(template.format(label), add_special_tokens=False)["input_ids"]) < room]
        for label in set(LABELS) - set(fits):
            with pytest.raises(InputError, match="leaves no room for the text"):
                encoder.pairs(PREMISES[:1], hypotheses_for([label], template), [label])
        hypotheses = hypotheses_for(fits, template)
        pairs = encoder.pairs(PREMISES, hypotheses, fits)  # the classifier's path: texts and hypotheses encoded once
        batch = encoder.assemble(pairs)
        checked += len(pairs)
        for row in range(len(pairs)):
            premise, hypothesis = PREMISES[row // len(fits)], hypotheses[row % len(fits)]
            expected = hf(premise, hypothesis, truncation="only_first")
            n = len(expected["input_ids"])
            assert batch.input_ids[row, :n].tolist() == expected["input_ids"], (arch, FAMILY[arch], premise[:20], hypothesis)
            assert batch.attention_mask[row].sum() == n and n <= hf.model_max_length
            if "token_type_ids" in expected:
                assert batch.token_type_ids[row, :n].tolist() == expected["token_type_ids"], (arch, premise[:20])
    assert checked >= len(PREMISES) * len(LABELS) * 2  # most combinations fit even the tiny 40-token models
