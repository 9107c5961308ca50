"""Cut a long text before tokenising it, without changing the tokens the model reads.

A tokenizer reads the whole string before truncation cuts it to the model's window: a 50 MB
text cost minutes and gigabytes for 512 tokens. ``bounded_text`` returns a prefix of the text
whose tokens are the full text's first ``tokens`` tokens (and more), found by tokenising a
growing slice: usually once, at most a few times for text that is mostly whitespace.

Why a prefix keeps the tokens: every tokenizer zsc supports splits words apart before it
splits them into tokens (BERT's whitespace and punctuation split, byte-level BPE's regex,
SentencePiece's metaspace), so cutting just before a whitespace that follows a word changes
nothing before the cut. Text without whitespace near the cut (Chinese, Japanese) is cut
``MARGIN`` characters before the slice's end instead, longer than any tokenizer's longest word
(WordPiece gives up at 100 characters); the tests check both against full tokenisation.
"""

from __future__ import annotations

from tokenizers import Tokenizer

CHARS_PER_TOKEN = 8  # first guess of characters per token (English averages about 4)
MARGIN = 256  # characters before the slice's end that may tokenise differently in the full text


def _word_end_before(text: str, end: int) -> int:
    """The last cut point in (end - MARGIN, end] just before a whitespace that follows a word,
    else end - MARGIN (no word boundary nearby)."""
    for i in range(end - 1, max(end - MARGIN, 0), -1):
        if text[i].isspace() and not text[i - 1].isspace():
            return i
    return max(end - MARGIN, 0)


def bounded_text(tokenizer: Tokenizer, text: str, tokens: int) -> str:
    """``text``, or a prefix of it that tokenises (without special tokens) to at least the first
    ``tokens`` tokens of the whole text, identical to them."""
    limit = tokens * CHARS_PER_TOKEN + MARGIN
    while limit < len(text):
        cut = _word_end_before(text, limit)
        encoding = tokenizer.encode(text[:limit], add_special_tokens=False)
        stable = sum(1 for _, end in encoding.offsets if end <= cut)
        if stable >= tokens:
            return text[:cut]
        limit *= 4  # mostly whitespace or markup: look further
    return text
