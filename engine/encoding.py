"""Tokenise texts and hypotheses once; assemble premise/hypothesis pairs without re-tokenising.

transformers encodes every (text, hypothesis) pair from scratch. A tokenizer encodes the
two sequences of a pair independently and then adds special tokens, so we can encode each
text once and each hypothesis once, then splice ids with the tokenizer's own pair layout
and apply ``only_first`` truncation ourselves. The result equals ``tokenizer.encode(a, b)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Encoding, Tokenizer

from .inputs import InputError
from .lru import LruCache
from .text_bounds import bounded_text

IdArray = np.ndarray  # 1-D int64 token ids


@dataclass(frozen=True)
class PairLayout:
    """Special tokens around and between the two sequences, with their token type ids."""

    prefix: IdArray
    middle: IdArray
    suffix: IdArray
    prefix_types: IdArray
    middle_types: IdArray
    suffix_types: IdArray
    first_type: int
    second_type: int

    @property
    def num_special(self) -> int:
        return len(self.prefix) + len(self.middle) + len(self.suffix)


def _segment(values: list[int], start: int, stop: int) -> IdArray:
    return np.asarray(values[start:stop], dtype=np.int64)


def derive_pair_layout(tokenizer: Tokenizer) -> PairLayout:
    """Read the pair template off the tokenizer by encoding a probe pair (call with truncation off)."""
    pair = tokenizer.encode("a", "b", add_special_tokens=True)
    sequence_ids = pair.sequence_ids
    if 0 not in sequence_ids or 1 not in sequence_ids:
        raise ValueError("tokenizer produced no tokens for a probe pair; cannot derive its pair layout")
    first_pos = [i for i, s in enumerate(sequence_ids) if s == 0]
    second_pos = [i for i, s in enumerate(sequence_ids) if s == 1]
    contiguous = (
        first_pos == list(range(first_pos[0], first_pos[0] + len(first_pos)))
        and second_pos == list(range(second_pos[0], second_pos[0] + len(second_pos)))
        and first_pos[-1] < second_pos[0]
    )
    if not contiguous:
        raise ValueError("unsupported tokenizer: its pair template does not place the premise before the hypothesis")
    ids, types = pair.ids, pair.type_ids
    a0, a1, b0, b1 = first_pos[0], first_pos[-1] + 1, second_pos[0], second_pos[-1] + 1
    return PairLayout(
        prefix=_segment(ids, 0, a0),
        middle=_segment(ids, a1, b0),
        suffix=_segment(ids, b1, len(ids)),
        prefix_types=_segment(types, 0, a0),
        middle_types=_segment(types, a1, b0),
        suffix_types=_segment(types, b1, len(ids)),
        first_type=int(types[a0]),
        second_type=int(types[b0]),
    )


@dataclass
class PairSet:
    """Premise/hypothesis pairs as references to already-encoded ids, truncated to fit."""

    firsts: list[IdArray]
    seconds: list[IdArray]

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(a) + len(b) for a, b in zip(self.firsts, self.seconds)), dtype=np.int64, count=len(self))

    def __len__(self) -> int:
        return len(self.firsts)

    def take(self, indices: np.ndarray) -> PairSet:
        return PairSet([self.firsts[i] for i in indices], [self.seconds[i] for i in indices])

    @staticmethod
    def concat(parts: list[PairSet]) -> PairSet:
        return PairSet([a for p in parts for a in p.firsts], [b for p in parts for b in p.seconds])


@dataclass(frozen=True)
class EncodedBatch:
    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray


@dataclass(frozen=True)
class TextWindows:
    """One text's windows: their token ids (premises) and the characters of the text each covers
    (what the embedder reads, so that every scoring mode sees the same windows)."""

    text: str
    ids: list[IdArray]
    spans: list[tuple[int, int]]

    def texts(self) -> list[str]:
        return [self.text[a:b] for a, b in self.spans]


class PairEncoder:
    """Encodes texts once and hypotheses once (cached), and assembles padded pair batches."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, pad_token_id: int, hypothesis_cache_size: int = 4096):
        # Truncation and padding are ours to apply; the tokenizer must return raw sequences.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.layout = derive_pair_layout(tokenizer)
        if max_length <= self.layout.num_special:
            raise ValueError(f"max_length {max_length} leaves no room for the {self.layout.num_special} special tokens")
        vocabulary = tokenizer.get_vocab_size(with_added_tokens=True)
        if not 0 <= pad_token_id < vocabulary:
            raise ValueError(f"pad_token_id {pad_token_id} is not a token of the tokenizer (its vocabulary has {vocabulary})")
        self.max_length = max_length
        self.pad_token_id = pad_token_id
        self._hypotheses: LruCache[str, IdArray] = LruCache(hypothesis_cache_size)  # a server tokenises from several threads
        self._sentence_ends: frozenset[int] | None = None

    @classmethod
    def from_file(cls, path: str | Path, max_length: int, pad_token_id: int) -> PairEncoder:
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise ValueError(f"cannot read tokenizer {path}: {exc}") from exc
        return cls(tokenizer, max_length, pad_token_id)

    def encode_texts(self, texts: list[str], max_tokens: int | None = None) -> list[IdArray]:
        """Token ids per text; with ``max_tokens``, each text's first ``max_tokens`` tokens (or
        more), read from a prefix of it, so a huge text costs what its start costs."""
        return [np.asarray(e.ids[:max_tokens], dtype=np.int64) for e in self._encodings(texts, max_tokens)]

    def _encodings(self, texts: list[str], max_tokens: int | None) -> list[Encoding]:
        """The tokenizer's encodings (ids and character offsets), each read from no more of its
        text than ``max_tokens`` tokens need (the ids past them are the caller's to drop)."""
        if max_tokens is not None:
            texts = [bounded_text(self.tokenizer, text, max_tokens) for text in texts]
        return self.tokenizer.encode_batch(texts, add_special_tokens=False)

    def encode_hypotheses(self, hypotheses: list[str]) -> list[IdArray]:
        """Token ids per hypothesis, from the LRU cache or the tokenizer.

        The lock guards only the cache's bookkeeping: tokenising happens outside it, so one
        slow request never holds up the others (two threads may tokenise the same new
        hypothesis at once; both get the same ids).
        """
        unique = list(dict.fromkeys(hypotheses))
        known = self._hypotheses.get_many(unique)
        missing = [h for h in unique if h not in known]
        if missing:
            computed = list(zip(missing, self.encode_texts(missing)))
            known.update(computed)
            self._hypotheses.put_many(computed)
        return [known[h] for h in hypotheses]

    def _check_hypotheses(self, hypothesis_ids: list[IdArray], labels: list[str]) -> int:
        """The premise budget; the tokenizer refuses to cut the premise to nothing ("too short"), so do we."""
        budget = self.max_length - self.layout.num_special
        for label, ids in zip(labels, hypothesis_ids):
            if len(ids) >= budget:
                raise InputError(
                    f"the hypothesis for label {label!r} is {len(ids)} tokens long and leaves no room for the "
                    f"text within the model's max length of {self.max_length} tokens; use a shorter label or template"
                )
        return budget

    def pairs(self, texts: list[str], hypotheses: list[str], labels: list[str], selection: np.ndarray | None = None) -> PairSet:
        """Text x hypothesis pairs, text-major, with the premise truncated (only_first): all of
        them, or for text i only the hypotheses ``selection[i]`` (a (texts, k) index array)."""
        return self.pairs_of([[ids] for ids in self.encode_texts(texts, self.max_length)], hypotheses, labels, selection)

    def pairs_of(self, premises: list[list[IdArray]], hypotheses: list[str], labels: list[str],
                 selection: np.ndarray | list[np.ndarray] | None = None) -> PairSet:
        """Pairs for texts given as encoded premises (one or more windows each): text-major, then
        window, then hypothesis (all, or ``selection[i]`` for text i, one index array per text), premises truncated."""
        hypothesis_ids = self.encode_hypotheses(hypotheses)
        budget = self._check_hypotheses(hypothesis_ids, labels)
        keeps = [budget - len(h) for h in hypothesis_ids]
        columns = selection if selection is not None else [range(len(hypothesis_ids))] * len(premises)
        chosen = [(window, int(j)) for windows, row in zip(premises, columns) for window in windows for j in row]
        return PairSet([window[: keeps[j]] for window, j in chosen], [hypothesis_ids[j] for _, j in chosen])

    def windows(self, texts: list[str], size: int, max_tokens: int) -> list[TextWindows]:
        """Each text's first ``max_tokens`` token ids cut into windows of at most ``size`` tokens,
        at sentence ends where possible (a sentence longer than ``size`` is cut inside), with the
        characters each window covers. A text that fits is one window."""
        ends = self._sentence_end_ids()
        out = []
        for text, encoding in zip(texts, self._encodings(texts, max_tokens)):
            ids = np.asarray(encoding.ids[:max_tokens], dtype=np.int64)
            offsets = encoding.offsets[:max_tokens]
            if len(ids) <= size:
                out.append(TextWindows(text, [ids], [(0, len(text))]))
                continue
            cuts = [i + 1 for i, token in enumerate(ids.tolist()) if token in ends]
            sentences = [(a, b) for a, b in zip([0, *cuts], [*cuts, len(ids)]) if b > a]
            bounds: list[tuple[int, int]] = []  # token ranges, one per window
            for first, stop in sentences:
                for start in range(first, stop, size):  # a sentence longer than a window is cut
                    end = min(start + size, stop)
                    if bounds and end - bounds[-1][0] <= size:
                        bounds[-1] = (bounds[-1][0], end)
                    else:
                        bounds.append((start, end))
            out.append(TextWindows(text, [ids[a:b] for a, b in bounds], [(offsets[a][0], offsets[b - 1][1]) for a, b in bounds]))
        return out

    def _sentence_end_ids(self) -> frozenset[int]:
        """Token ids that end a sentence: ".", "!", "?" and their word-initial forms (read off the vocabulary once)."""
        if self._sentence_ends is None:
            vocabulary = self.tokenizer.get_vocab()
            self._sentence_ends = frozenset(i for token, i in vocabulary.items()
                                            if token.lstrip("Ġ▁ ").rstrip() in {".", "!", "?", "...", "?!"})
        return self._sentence_ends

    def zipped_pairs(self, premises: list[str], hypotheses: list[str]) -> PairSet:
        """One pair per (premise, hypothesis) position, as NLI evaluation needs."""
        if len(premises) != len(hypotheses):
            raise ValueError("premises and hypotheses must have the same length")
        hypothesis_ids = self.encode_texts(hypotheses)
        budget = self._check_hypotheses(hypothesis_ids, hypotheses)
        firsts = [ids[: budget - len(h)] for ids, h in zip(self.encode_texts(premises, self.max_length), hypothesis_ids)]
        return PairSet(firsts, hypothesis_ids)

    def assemble(self, pairs: PairSet, width: int | None = None) -> EncodedBatch:
        """Pad a batch to its longest pair, or to ``width`` (a length bucket, from the batch budget),
        fully vectorised but for one concatenate. Padding is masked: it never changes a pair's logits."""
        layout = self.layout
        n = len(pairs)
        lengths = pairs.lengths + layout.num_special
        width = max(width or 0, int(lengths.max()))
        ids_pieces: list[IdArray] = []
        type_pieces: list[IdArray] = []
        first_type = np.full(width, layout.first_type, dtype=np.int64)
        second_type = np.full(width, layout.second_type, dtype=np.int64)
        for first, second in zip(pairs.firsts, pairs.seconds):
            ids_pieces += [layout.prefix, first, layout.middle, second, layout.suffix]
            type_pieces += [layout.prefix_types, first_type[: len(first)], layout.middle_types, second_type[: len(second)], layout.suffix_types]
        mask = np.arange(width)[None, :] < lengths[:, None]
        input_ids = np.full((n, width), self.pad_token_id, dtype=np.int64)
        token_type_ids = np.zeros((n, width), dtype=np.int64)
        # Boolean assignment fills row-major, so the flat pieces land row by row.
        input_ids[mask] = np.concatenate(ids_pieces)
        token_type_ids[mask] = np.concatenate(type_pieces)
        return EncodedBatch(input_ids, mask.astype(np.int64), token_type_ids)
