"""LoadOptions: how a model loads, as one checked, frozen value that every front-end builds once."""

from __future__ import annotations

import dataclasses

import pytest

from zsc.engine import LoadOptions, ZeroShotClassifier
from zsc.engine.cli import build_parser, load_options
from zsc.engine.feeding import Feeding


@pytest.mark.parametrize("kwargs, error, message", [
    ({"provider": "tpu"}, ValueError, "provider must be one of"),
    ({"precision": "int4"}, ValueError, "precision must be one of"),
    ({"threads": 0}, ValueError, "threads must be positive, got 0"),
    ({"batch_size": True}, TypeError, "batch_size must be a positive integer, got bool"),
    ({"max_batch_tokens": -3}, ValueError, "max_batch_tokens must be positive, got -3"),
    ({"verify": "yes"}, TypeError, "verify must be a boolean"),
    ({"revision": " "}, ValueError, "revision must be a branch, tag or commit name"),
    ({"feeding": {"batch_size": 4}}, TypeError, "feeding must be a Feeding"),
])
def test_each_option_is_checked_once_with_a_message(kwargs, error, message):
    with pytest.raises(error, match=message):
        LoadOptions.of(**kwargs)


def test_it_is_frozen_and_hashable():
    options = LoadOptions.of(provider="cpu", threads=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.threads = 3  # type: ignore[misc]
    assert {options: 1}[LoadOptions.of(provider="cpu", threads=2)] == 1  # a cache key (Spark keeps one model per value)


def test_from_pretrained_takes_the_keywords_or_the_value_not_both(default_model_dir):
    whole = ZeroShotClassifier.from_pretrained(default_model_dir, options=LoadOptions.of(precision="fp16", batch_size=4))
    spelled = ZeroShotClassifier.from_pretrained(default_model_dir, precision="fp16", batch_size=4)
    assert (whole.precision, whole.batch_size) == (spelled.precision, spelled.batch_size) == ("fp16", 4)
    assert whole("a refund please", ["refund", "legal"]) == spelled("a refund please", ["refund", "legal"])
    with pytest.raises(TypeError, match="give options= or the loading keyword arguments, not both"):
        ZeroShotClassifier.from_pretrained(default_model_dir, options=LoadOptions(), threads=2)
    with pytest.raises(TypeError, match="options must be a LoadOptions"):
        ZeroShotClassifier.from_pretrained(default_model_dir, options={"threads": 2})  # type: ignore[arg-type]


def test_the_embedder_inherits_threads_and_feeding_and_stays_on_the_cpu():
    feeding = Feeding(batch_size=8, max_batch_tokens=512, pad_multiple=1, io_binding=False, prefetch=False)
    derived = LoadOptions.of(provider="cuda", threads=3, feeding=feeding, batch_size=2).for_embedder("cpu")
    assert (derived.provider, derived.threads, derived.feeding, derived.batch_size) == ("cpu", 3, feeding, None)
    assert LoadOptions.of(threads=3).for_embedder("cuda").provider == "auto"


def test_the_command_line_builds_one_from_its_flags():
    args = build_parser().parse_args(["classify", "x", "-l", "a,b", "--provider", "cpu", "--precision", "fp32", "--threads", "2",
                                      "--batch-size", "8", "--max-batch-tokens", "1024"])
    assert load_options(args) == LoadOptions.of(provider="cpu", precision="fp32", threads=2, batch_size=8, max_batch_tokens=1024)
