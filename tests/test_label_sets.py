"""Per-text label sets: one label list per text, batched together in one call, each text's result
exactly what calling it alone gives, through the API, the server, CLI file jobs (Ray: test_ray.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zsc.engine import CallOptions, InputError, InputTypeError, ZeroShotClassifier

TEXTS = [
    "The striker scored twice in the cup final and the crowd went wild.",
    "Shares slid as the central bank raised interest rates again. Investors fear a recession. " * 6,
    "I want my money back, the phone broke after two days.",
]
LABEL_SETS = [["sports", "politics", "music"], ["business", "sports", "science", "weather", "travel"], ["refund", "faq"]]


@pytest.fixture(scope="module")
def clf() -> ZeroShotClassifier:
    return ZeroShotClassifier.default(batch_size=4)  # small batches: texts' pairs must share them


@pytest.mark.parametrize("options", [
    {},
    {"multi_label": True},
    {"hypothesis_template": "The topic is {}."},
    {"prefilter_top_k": 3},  # auto: hybrid for the texts it narrows, exact NLI for the one with 2 labels
    {"scoring": "hybrid", "multi_label": True},
    {"scoring": "embedding"},
    {"long_text": "max", "window_tokens": 16},
    {"long_text": "mean", "prefilter_top_k": 2, "scoring": "hybrid"},
], ids=str)
def test_each_text_gets_exactly_what_it_gets_alone(clf, options):
    together = clf(TEXTS, LABEL_SETS, **options)
    alone = [clf(text, labels, **options) for text, labels in zip(TEXTS, LABEL_SETS)]
    assert together == alone
    for result, labels in zip(together, LABEL_SETS):
        assert sorted(p["label"] for p in result) == sorted(labels)


def test_the_pairs_of_all_texts_share_batches(clf):
    prepared = clf.prepare(TEXTS, LABEL_SETS)
    assert len(prepared.pairs) == sum(map(len, LABEL_SETS))  # 10 pairs: each text with its own labels only
    runs = []
    original = clf.runner.run
    clf.runner.run = lambda feeds: runs.append(len(feeds["input_ids"])) or original(feeds)  # type: ignore[method-assign]
    try:
        clf.finish(prepared, clf.logits(prepared.pairs))
    finally:
        del clf.runner.run
    assert sum(runs) == 10 and len(runs) == 3  # batches of 4 pairs across texts, not one run per text


def test_legacy_shape_and_a_single_text(clf):
    legacy = clf(TEXTS[:2], LABEL_SETS[:2], legacy=True)
    assert [r["sequence"] for r in legacy] == TEXTS[:2] and sorted(legacy[1]["labels"]) == sorted(LABEL_SETS[1])
    assert clf(TEXTS[2], [LABEL_SETS[2]]) == clf(TEXTS[2], LABEL_SETS[2])  # one text, one list of lists
    assert clf(TEXTS[:2], [["a, b"], ("c", "d")])[0][0]["label"] == "a, b"  # inner strings are labels, not comma lists


@pytest.mark.parametrize("labels, error, match", [
    ([["a"], ["b"]], InputError, "2 label lists for 3 texts"),
    ([["a"], "b", ["c"]], InputTypeError, "mixes labels and lists of labels"),
    ([["a"], [], ["c"]], InputError, r"candidate_labels\[1\] is empty"),
    ([["a"], ["b", 3], ["c"]], InputTypeError, r"candidate_labels\[1\]\[1\] must be a string"),
    ([["a"], ["b", "  "], ["c"]], InputError, r"candidate_labels\[1\]\[1\] is only whitespace"),
])
def test_mismatched_or_bad_label_sets_are_named(clf, labels, error, match):
    with pytest.raises(error, match=match):
        clf(TEXTS, labels)


def test_the_server_takes_one_list_per_input(clf, default_model_dir):
    pytest.importorskip("fastapi")
    import httpx
    from test_server import running, wait_ready

    from zsc.engine.server.config import Limits, ServerConfig

    config = ServerConfig(models={"default": default_model_dir}, limits=Limits(max_labels=4))
    with running(config) as base:
        wait_ready(base)
        body = {"inputs": TEXTS, "parameters": {"candidate_labels": [LABEL_SETS[0], LABEL_SETS[1][:4], LABEL_SETS[2]],
                                                "multi_label": True}}
        answer = httpx.post(base + "/", json=body, timeout=60)
        assert answer.status_code == 200
        assert answer.json() == clf(TEXTS, [LABEL_SETS[0], LABEL_SETS[1][:4], LABEL_SETS[2]], multi_label=True)
        for labels, message in [([["a"], ["b"]], "2 label lists for 3 inputs"),
                                ([["a"], ["b", 1], ["c"]], "one list of strings per input"),
                                ([["a"], LABEL_SETS[1], ["c"]], "too many candidate_labels: 5 > max_labels 4")]:
            bad = httpx.post(base + "/", json={"inputs": TEXTS, "parameters": {"candidate_labels": labels}}, timeout=60)
            assert bad.status_code == 400 and message in bad.json()["error"], bad.text


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zsc.engine.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_reads_each_rows_labels_from_jsonl_and_csv(clf, tmp_path):
    rows = [{"text": t, "labels": labels} for t, labels in zip(TEXTS, LABEL_SETS)]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("text,topics\n" + "".join(f'"{t}","{", ".join(labels)}"\n' for t, labels in zip(TEXTS, LABEL_SETS)))
    expected = clf(TEXTS, LABEL_SETS, legacy=True, options=CallOptions.of(multi_label=True))
    for source, field in ((jsonl, "labels"), (csv_file, "topics")):
        out = tmp_path / f"{source.suffix[1:]}.out.jsonl"
        result = run_cli("classify", "--input", str(source), "--labels-field", field, "--multi-label", "--output", str(out))
        assert result.returncode == 0, result.stderr
        got = [json.loads(line) for line in out.read_text().splitlines()]
        assert [(g["labels"], g["scores"]) for g in got] == [(e["labels"], e["scores"]) for e in expected]


@pytest.mark.parametrize("content, suffix, extra, message", [
    ('{"text": "a"}\n', ".jsonl", (), "in.jsonl:1: no labels in field 'labels'"),
    ('{"text": "a", "labels": []}\n', ".jsonl", (), "in.jsonl:1: field 'labels' holds no labels"),
    ('{"text": "a", "labels": 3}\n', ".jsonl", (), "must be a list of labels or a comma-separated string"),
    ('{"text": "a", "labels": ["x", 2]}\n', ".jsonl", (), r"in.jsonl:1: field 'labels': candidate_labels[1] must be a string"),
    ("text,labels\na, \n", ".csv", (), "in.csv:2: field 'labels' holds no labels"),
    ("a text\n", ".txt", (), "per-row labels need .jsonl or .csv"),
    ('{"text": "a", "labels": ["x"]}\n', ".jsonl", ("--labels", "x"), "exactly one"),
])
def test_cli_refuses_bad_label_fields_with_file_and_line(tmp_path, content, suffix, extra, message):
    source = tmp_path / f"in{suffix}"
    source.write_text(content)
    result = run_cli("classify", "--input", str(source), "--labels-field", "labels", *extra, "--output", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "o.jsonl").exists()
