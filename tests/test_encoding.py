"""Pair assembly equals what the tokenizer itself gives for the pair, truncation included."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MINILM
from tiny_models import BUILDERS
from tokenizers import Tokenizer

from zsc.engine.encoding import PairEncoder

PREMISES = [
    "A short one.",
    "Ünïcödé — naïve café 東京 🚀",
    "word " * 300,  # far over any max length: only the premise is cut
    " ",
    "Multiple   spaces\tand\nnewlines here.",
]
HYPOTHESES = ["This example is sports.", "This example is {}.".format("a much longer label with several words")]


def tokenizer_files(tiny_hf):
    yield "minilm", MINILM / "tokenizer.json", 512
    for arch in BUILDERS:
        yield arch, tiny_hf(arch) / "tokenizer.json", 40


@pytest.mark.parametrize("arch", ["minilm", *BUILDERS])
def test_assembled_pairs_equal_tokenizer_pairs(arch, tiny_hf):
    name, path, max_length = next(t for t in tokenizer_files(tiny_hf) if t[0] == arch)
    encoder = PairEncoder(Tokenizer.from_file(str(path)), max_length=max_length, pad_token_id=0)
    reference = Tokenizer.from_file(str(path))
    reference.enable_truncation(max_length, strategy="only_first")
    reference.no_padding()
    premises = PREMISES
    for hypothesis in HYPOTHESES:
        pairs = encoder.zipped_pairs(premises, [hypothesis] * len(premises))
        batch = encoder.assemble(pairs)
        for row, premise in enumerate(premises):
            expected = reference.encode(premise, hypothesis)
            n = len(expected.ids)
            assert batch.input_ids[row, :n].tolist() == expected.ids, (name, premise[:20])
            assert batch.token_type_ids[row, :n].tolist() == expected.type_ids
            assert batch.attention_mask[row].sum() == n
            assert n <= max_length


def test_cross_product_is_text_major(tiny_hf):
    encoder = PairEncoder(Tokenizer.from_file(str(tiny_hf("bert") / "tokenizer.json")), 40, 0)
    pairs = encoder.pairs(["first text", "second"], ["h one", "h two", "h three"], ["1", "2", "3"])
    assert len(pairs) == 6
    assert np.array_equal(pairs.firsts[0], pairs.firsts[2]) and not np.array_equal(pairs.firsts[0], pairs.firsts[3])
    assert np.array_equal(pairs.seconds[1], pairs.seconds[4])


def test_hypotheses_are_cached_and_bounded(tiny_hf):
    encoder = PairEncoder(Tokenizer.from_file(str(tiny_hf("bert") / "tokenizer.json")), 40, 0, hypothesis_cache_size=3)
    first = encoder.encode_hypotheses(["a b", "c d"])
    again = encoder.encode_hypotheses(["a b"])
    assert again[0] is first[0]  # reused, not re-tokenised
    encoder.encode_hypotheses(["e", "f", "g"])
    assert len(encoder._hypotheses) == 3


def test_hypothesis_too_long_names_the_label(tiny_hf):
    encoder = PairEncoder(Tokenizer.from_file(str(tiny_hf("bert") / "tokenizer.json")), 40, 0)
    long_label = "extremely " * 50
    with pytest.raises(ValueError, match="hypothesis for label 'extremely"):
        encoder.pairs(["text"], ["short", f"This is {long_label}"], ["short", long_label])


def test_padding_uses_pad_id_and_zero_mask(tiny_hf):
    encoder = PairEncoder(Tokenizer.from_file(str(tiny_hf("roberta") / "tokenizer.json")), 40, pad_token_id=1)
    batch = encoder.assemble(encoder.zipped_pairs(["short", "a somewhat longer premise here"], ["h", "h"]))
    short_len = batch.attention_mask[0].sum()
    assert (batch.input_ids[0, short_len:] == 1).all()
    assert (batch.attention_mask[0, short_len:] == 0).all()
