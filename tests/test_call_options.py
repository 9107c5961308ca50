"""CallOptions: one checked value from every front-end, the defaults read from one place, and the
same options round-tripping through a file job's resume record and the server's cache key."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from zsc.engine import CallOptions, InputError, InputTypeError, ZeroShotClassifier
from zsc.engine import defaults as D

TEXTS = ["The striker scored twice in the cup final.", "Shares slid as the central bank raised rates."]
LABELS = ["sports", "business", "politics"]
SOME = CallOptions.of("It is about {}.", True, "hybrid", 2, "max", 16)


@pytest.fixture(scope="module")
def clf() -> ZeroShotClassifier:
    return ZeroShotClassifier.default()


def test_the_defaults_are_the_pipelines_and_come_from_defaults_py():
    options = CallOptions()
    assert options == CallOptions.of()
    assert (options.hypothesis_template, options.multi_label, options.scoring, options.long_text) == \
        (D.DEFAULT_TEMPLATE, False, D.DEFAULT_SCORING, D.DEFAULT_LONG_TEXT)
    assert options.prefilter_top_k == D.DEFAULT_PREFILTER_TOP_K == "auto" and options.window_tokens is None
    assert len(LABELS) <= 10 and options.top_k(len(LABELS)) is None
    assert options.resolved_scoring(len(LABELS), embedder=False) == "nli"  # without an embedder the defaults are the pipeline
    assert options.resolved_scoring(len(LABELS)) == "hybrid"  # with one, the hybrid (its weight set per call)


@pytest.mark.parametrize("record, error, match", [
    ({"multi_label": "yes"}, InputTypeError, "multi_label must be a boolean"),
    ({"scoring": "best"}, InputError, "scoring must be one of"),
    ({"prefilter_top_k": 0}, InputError, "prefilter_top_k must be a positive integer"),
    ({"prefilter_top_k": True}, InputTypeError, "prefilter_top_k must be a positive integer"),
    ({"long_text": "all"}, InputError, "long_text must be one of"),
    ({"window_tokens": 4, "long_text": "max"}, InputError, "window_tokens must be at least 8"),
    ({"window_tokens": 64}, InputError, "window_tokens applies to long_text 'max' or 'mean'"),
    ({"hypothesis_template": 3}, InputTypeError, "hypothesis_template must be a string"),
    ({"hypothesis_template": "no slot"}, InputError, "hypothesis_template"),
    ({"hypothesis_template": "{:>9999}"}, InputError, "may stand where the label goes"),
    ({"temperature": 2}, InputError, "unknown option"),
])
def test_every_check_is_in_one_place(record, error, match):
    with pytest.raises(error, match=match):
        CallOptions.from_record(record)


def test_the_record_round_trips_and_the_cache_key_follows_the_values():
    assert CallOptions.from_record(json.loads(json.dumps(SOME.as_record()))) == SOME
    assert set(SOME.as_record()) == {f.name for f in fields(CallOptions)}
    assert CallOptions.of(multi_label=False).cache_key() == CallOptions().cache_key()  # spelled out or not: one key
    keys = {CallOptions.from_record({**SOME.as_record(), f.name: other}).cache_key()
            for f, other in zip(fields(CallOptions), ["{} it is.", False, "nli", 3, "mean", 32])}
    assert len(keys) == len(fields(CallOptions)) and SOME.cache_key() not in keys  # each option changes the key


def test_numpy_values_leave_as_plain_python():
    np = pytest.importorskip("numpy")
    options = CallOptions.of(multi_label=np.bool_(True), prefilter_top_k=np.int64(3))
    assert type(options.multi_label) is bool and type(options.prefilter_top_k) is int
    assert json.dumps(options.as_record())


def test_keywords_and_the_object_give_the_same_call(clf):
    by_keywords = clf(TEXTS, LABELS, "It is about {}.", True)
    by_object = clf(TEXTS, LABELS, options=CallOptions.of("It is about {}.", True))
    assert by_keywords == by_object
    with pytest.raises(TypeError, match="not both"):
        clf(TEXTS, LABELS, multi_label=True, options=CallOptions())
    with pytest.raises(TypeError, match="given by position and by name"):
        clf(TEXTS, LABELS, "{}", hypothesis_template="{}")


def test_a_file_jobs_resume_record_holds_the_options_and_refuses_others(clf, tmp_path):
    from zsc.engine.jobs.classify_file import FileJob, _job_description
    from zsc.engine.jobs.files import InputFileError
    from zsc.engine.jobs.progress import JobRecord, check_same_job, read_record, write_record

    options = CallOptions.of("It is about {}.", True, "nli", None, "max", 16)
    record_path = tmp_path / "out.jsonl.progress.json"
    write_record(record_path, JobRecord(_job_description(clf, "digest", FileJob.of(LABELS, options))))
    stored = read_record(record_path).job
    assert CallOptions.from_record(stored["options"]) == options  # round trip through the file on disk
    check_same_job(read_record(record_path), _job_description(clf, "digest", FileJob.of(LABELS, options)), record_path)
    with pytest.raises(InputFileError, match="options was"):
        check_same_job(read_record(record_path), _job_description(clf, "digest", FileJob.of(LABELS, CallOptions())),
                       record_path)


def test_the_servers_cache_key_is_the_options_not_their_spelling():
    pytest.importorskip("fastapi")
    from zsc.engine.server.config import Limits
    from zsc.engine.server.requests import parse_request

    def parsed(parameters: dict) -> object:
        return parse_request(json.dumps({"inputs": TEXTS[0], "parameters": {"candidate_labels": LABELS, **parameters}}).encode(), Limits())

    bare = parsed({})
    spelled = parsed({"hypothesis_template": D.DEFAULT_TEMPLATE, "multi_label": False, "scoring": D.DEFAULT_SCORING,
                      "prefilter_top_k": None, "long_text": D.DEFAULT_LONG_TEXT})
    assert bare.options == spelled.options == CallOptions()
    assert bare.cache_key("m", False) == spelled.cache_key("m", False)
    assert parsed({"multi_label": True}).options == CallOptions.of(multi_label=True)
    assert parsed({"multi_label": True}).cache_key("m", False) != bare.cache_key("m", False)
    with pytest.raises(InputError, match="parameters: scoring must be one of"):
        parsed({"scoring": "best"})
