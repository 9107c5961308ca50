"""What the library accepts as texts and options (arrays, Series, tuples, generators, numpy scalars),
what it still refuses, and how a long text's cost stays bounded."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from zsc.engine import ZeroShotClassifier
from zsc.engine.defaults import DEFAULT_WINDOW_TOKENS, LONG_TEXT_MAX_TOKENS
from zsc.engine.inputs import InputError, InputTypeError


@pytest.fixture(scope="module")
def tiny(tiny_exported):
    return ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"))


def test_a_texts_windows_are_bounded_in_the_library(tiny):
    prepared = tiny.prepare("word. " * 200_000, ["a", "b"], long_text="max", window_tokens=8)
    pairs, _ = tiny.cost(prepared)
    windows = prepared.windows or []
    assert sum(len(window) for window in prepared.pairs.firsts[::2]) == LONG_TEXT_MAX_TOKENS  # read up to the bound, no further
    assert pairs == 2 * windows[0] and windows[0] <= LONG_TEXT_MAX_TOKENS // 4
    prepared = tiny.prepare(["x " * 300_000, "short"], ["a", "b", "c"], long_text="mean")
    windows = prepared.windows or []
    assert windows[1] == 1 and windows[0] * min(DEFAULT_WINDOW_TOKENS["mean"] or 0, tiny.encoder.max_length) <= 2 * LONG_TEXT_MAX_TOKENS


# 4. A long text is cut before it is tokenised; file rows are bounded.

@pytest.mark.parametrize("text", ["中" * 3_000_000, "word " * 600_000, " " * 2_000_000 + "late words"])
def test_a_huge_text_costs_what_its_start_costs(tiny, text):
    started = time.perf_counter()
    result = tiny(text, ["a", "b"])
    assert time.perf_counter() - started < 3  # the whole text took 4-20 s to tokenise
    assert result == tiny(text[: len(text) // 10 if text[0] != " " else len(text)], ["a", "b"])


def test_numpy_scalars_are_options_like_any_other(tiny):
    expected = tiny(["a text", "another"], ["a", "b", "c"], multi_label=True)
    assert tiny(["a text", "another"], ["a", "b", "c"], multi_label=np.bool_(True)) == expected
    assert tiny("text", ["a", "b", "c"], prefilter_top_k=None, long_text="max", window_tokens=np.int64(16)) == \
        tiny("text", ["a", "b", "c"], long_text="max", window_tokens=16)
    with pytest.raises(InputTypeError, match="must be a positive integer, got float64"):
        tiny("text", ["a"], long_text="max", window_tokens=np.float64(16))
    with pytest.raises(InputError, match="window_tokens must be at least 8, got 2"):
        tiny("text", ["a"], long_text="max", window_tokens=np.int32(2))


# 8. Inputs as the pipeline takes them: arrays, Series, tuples, generators.

def test_arrays_series_tuples_and_generators_are_inputs(tiny):
    import pandas as pd

    texts = ["first text", "second text", "third one"]
    expected = tiny(texts, ["a", "b"])
    assert tiny(tuple(texts), ["a", "b"]) == expected
    assert tiny(np.array(texts), ["a", "b"]) == expected
    assert tiny(np.array(texts, dtype=object), np.array(["a", "b"])) == expected
    assert tiny(pd.Series(texts, index=[10, 20, 30]), ("a", "b")) == expected
    assert tiny(pd.DataFrame({"text": texts})["text"], pd.Series(["a", "b"])) == expected
    assert tiny((t for t in texts), ["a", "b"]) == expected
    assert json.dumps(tiny(np.array(texts), ["a", "b"]))  # plain str labels and floats: JSON-ready


@pytest.mark.parametrize("inputs, message", [
    (np.array([["a", "b"], ["c", "d"]]), "one-dimensional"),
    ({"text": "x"}, "got dict"),
    (np.array([1, 2]), r"inputs\[0\] must be a string, got int64"),
    (iter([None]), r"inputs\[0\] must be a string, got NoneType"),
])
def test_what_is_still_refused(tiny, inputs, message):
    with pytest.raises(InputTypeError, match=message):
        tiny(inputs, ["a", "b"])
