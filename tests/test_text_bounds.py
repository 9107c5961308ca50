"""A long text is cut before tokenising, and the model still reads exactly the tokens it would
have read from the whole text (every tokenizer family, every script, whitespace runs)."""

from __future__ import annotations

import random
import time

import pytest
from tiny_models import _byte_level_bpe, _unigram_metaspace, _wordpiece

from zsc.engine.text_bounds import bounded_text

FAMILIES = {"wordpiece": _wordpiece, "byte-level-bpe": _byte_level_bpe, "unigram": _unigram_metaspace}
PIECES = ["The market rallied today.", "中文文本没有空格", "مرحبا بالعالم", "नमस्ते दुनिया", "Привет, мир!", "🙂🚀", "a" * 150,
          "  ", "\n\n", "\t", "state-of-the-art", "x", "Ünïcödé"]


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def tokenizer(request):
    tok = FAMILIES[request.param]()
    tok.no_truncation()
    tok.no_padding()
    return tok


def _random_text(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts.append(rng.choice(PIECES) + rng.choice(["", " ", "  ", "\n"]))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tokens", [8, 40, 512])
def test_prefix_gives_the_first_tokens_of_the_whole_text(tokenizer, seed, tokens):
    text = _random_text(random.Random(seed), 30_000)
    whole = tokenizer.encode(text, add_special_tokens=False).ids
    cut = bounded_text(tokenizer, text, tokens)
    assert len(cut) < len(text)  # it did cut
    assert tokenizer.encode(cut, add_special_tokens=False).ids[:tokens] == whole[:tokens]


@pytest.mark.parametrize("text", ["中" * 200_000, ("word " * 40_000), (" " * 100_000) + "late words at the end " * 50,
                                  "a" * 300_000, "مرحبا " * 30_000])
def test_pathological_texts(tokenizer, text):
    whole = tokenizer.encode(text, add_special_tokens=False).ids
    started = time.perf_counter()
    cut = bounded_text(tokenizer, text, 64)
    assert tokenizer.encode(cut, add_special_tokens=False).ids[:64] == whole[:64]
    assert time.perf_counter() - started < 2


def test_short_texts_are_untouched(tokenizer):
    assert bounded_text(tokenizer, "short text", 512) == "short text"
