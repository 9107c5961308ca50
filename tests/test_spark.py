"""Spark: a real local Spark (local[2], started once for this module) classifies DataFrame columns
with the same labels and scores as in-process calls; bad rows are reported by row; a model
directory reaches the executors through addFile, and one missing there is one clear error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("pyspark")

from zsc.engine import CallOptions, ZeroShotClassifier
from zsc.engine.inputs import InputError
from zsc.engine.loading import default_embedder_path
from zsc.engine.spark import RESULT_COLUMNS, ModelRef, Models, classify_column, local_session

TEXTS = ["Shares fell after the quarterly earnings report", "The football team won the cup final",
         "Parliament passed the new tax law", "A new vaccine was tested on volunteers", "The striker signed a new contract",
         "Oil prices rose sharply this week", "Scientists measured the mass of the particle", "The election results were announced"]
LABELS = ["business", "sports", "politics", "science"]


@pytest.fixture(scope="module")
def spark():
    session = local_session("local[2]", "zsc-tests")
    yield session
    session.stop()


def rows_of(frame) -> list[dict]:
    return [row.asDict(recursive=True) for row in frame.orderBy("id").collect()]


def as_engine(row: dict) -> list[dict]:
    return [{"label": item["label"], "score": item["score"]} for item in row["zsc_ranking"]]


def test_fixed_labels_give_exactly_the_in_process_scores(spark):
    frame = spark.createDataFrame([(i, text) for i, text in enumerate(TEXTS)], ["id", "text"]).repartition(3)
    result = classify_column(frame, LABELS)
    assert result.columns == ["id", "text", *RESULT_COLUMNS]
    expected = ZeroShotClassifier.default()(TEXTS, LABELS)
    for row in rows_of(result):
        assert as_engine(row) == expected[row["id"]]  # exactly: int8 is batch-invariant
        assert (row["zsc_label"], row["zsc_score"], row["zsc_error"]) == (expected[row["id"]][0]["label"], expected[row["id"]][0]["score"],
                                                                           None)


@pytest.mark.parametrize("as_string", [False, True])
def test_each_row_may_bring_its_own_labels(spark, as_string):
    own = [LABELS[: 2 + i % 3] for i in range(len(TEXTS))]
    column = [", ".join(labels) if as_string else labels for labels in own]
    frame = spark.createDataFrame([(i, t, labels) for i, (t, labels) in enumerate(zip(TEXTS, column))], ["id", "body", "candidates"])
    result = rows_of(classify_column(frame, text_column="body", labels_column="candidates"))
    clf = ZeroShotClassifier.default()
    assert [as_engine(row) for row in result] == [clf(text, labels) for text, labels in zip(TEXTS, own)]


def test_options_and_multi_label_are_the_engines(spark):
    options = CallOptions.of(hypothesis_template="The topic is {}.", multi_label=True)
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(TEXTS[:4])], ["id", "text"])
    result = rows_of(classify_column(frame, LABELS, options=options))
    assert [as_engine(row) for row in result] == ZeroShotClassifier.default()(TEXTS[:4], LABELS, options=options)


def test_bad_rows_are_reported_by_row_and_the_job_goes_on(spark):
    data = [(0, TEXTS[0], ["a", "b"]), (1, None, ["a", "b"]), (2, "   ", ["a", "b"]), (3, TEXTS[1], []), (4, TEXTS[2], None),
            (5, TEXTS[3], ["x" * 3000]), (6, TEXTS[4], ["sports", "music"])]
    frame = spark.createDataFrame(data, "id int, text string, labels array<string>")
    rows = rows_of(classify_column(frame, labels_column="labels"))
    errors = {row["id"]: row["zsc_error"] for row in rows}
    assert errors[0] is None and errors[6] is None and rows[6]["zsc_label"] in ("sports", "music")
    assert errors[1] == "the text is null" and "only whitespace" in errors[2]
    assert errors[3] == "the label list is empty" and errors[4] == "the labels are null" and "characters long" in errors[5]
    assert all(row["zsc_label"] is None and row["zsc_ranking"] is None for row in rows if row["zsc_error"])


def test_a_model_directory_is_shipped_to_the_executors(spark, tiny_exported, tmp_path):
    import shutil

    model = shutil.copytree(tiny_exported("bert"), tmp_path / "tiny-model")
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(TEXTS)], ["id", "text"])
    rows = rows_of(classify_column(frame, LABELS, model=model))
    expected = ZeroShotClassifier.from_pretrained(model)(TEXTS, LABELS)
    assert [as_engine(row) for row in rows] == expected


def test_an_embedder_directory_is_shipped_and_used(spark, tiny_exported, tmp_path):
    """A model without an embedder scores hybrid with the one given, shipped like the model; the
    load options reach the executors too."""
    import shutil

    model = shutil.copytree(tiny_exported("bert"), tmp_path / "tiny-model")
    embedder = shutil.copytree(default_embedder_path(), tmp_path / "an-embedder")
    hybrid = CallOptions.of(scoring="hybrid")
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(TEXTS)], ["id", "text"])
    rows = rows_of(classify_column(frame, LABELS, model=model, embedder=embedder, options=hybrid, pairs_per_batch=3,
                                   max_batch_tokens=600))
    expected = ZeroShotClassifier.from_pretrained(model, embedder=embedder)(TEXTS, LABELS, options=hybrid)
    assert [as_engine(row) for row in rows] == expected
    nli = ZeroShotClassifier.from_pretrained(model)(TEXTS, LABELS)
    assert expected != nli  # the embedder moved the scores: had it been dropped, the rows could not match
    without = rows_of(classify_column(frame, LABELS, model=model, options=hybrid))
    assert all("embedder" in row["zsc_error"] for row in without)
    namesake = shutil.copytree(default_embedder_path(), tmp_path / "elsewhere" / "tiny-model")
    with pytest.raises(InputError, match="folders of one name"):  # Spark would ship one over the other
        classify_column(frame, LABELS, model=model, embedder=namesake)


def test_a_model_missing_on_an_executor_is_one_clear_error(spark):
    from pyspark.sql import functions as F

    from zsc.engine import spark as adapter

    frame = spark.createDataFrame([(0, TEXTS[0])], ["id", "text"])
    udf = F.pandas_udf(adapter._fixed_labels_udf(Models(ModelRef("never-shipped", shipped=True)), "{}", CallOptions(), LABELS),
                       adapter.RESULT_TYPE)
    with pytest.raises(Exception, match="the model directory 'never-shipped' is missing on this executor"):
        frame.select(udf("text")).collect()


def test_bad_arguments_fail_before_any_work(spark):
    frame = spark.createDataFrame([(0, "a text")], ["id", "text"])
    for kwargs, message in [({}, "exactly one"), ({"candidate_labels": "a", "labels_column": "text"}, "exactly one"),
                            ({"candidate_labels": []}, "empty"), ({"candidate_labels": "a", "text_column": "body"}, "no column 'body'"),
                            ({"candidate_labels": "a", "model": "/no/such/model"}, "model directory not found"),
                            ({"candidate_labels": "a", "embedder": "/no/such/embedder"}, "model directory not found"),
                            ({"candidate_labels": "a", "max_batch_tokens": 0}, "must be positive")]:
        with pytest.raises((InputError, FileNotFoundError), match=message):
            classify_column(frame, **kwargs)


def test_zsc_classify_engine_spark_reads_and_writes_files(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    output = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", "--input", str(source), "--labels", ",".join(LABELS),
                             "--engine", "spark", "--master", "local[2]", "--output", str(output), "--output-format", "jsonl"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = sorted((json.loads(line) for part in output.glob("part-*.json") for line in part.read_text().splitlines()), key=lambda r: r["id"])
    expected = ZeroShotClassifier.default()(TEXTS, LABELS)
    assert [r["zsc_ranking"] for r in rows] == expected
    again = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", "--input", str(source), "--labels", "a,b",
                            "--engine", "spark", "--output", str(output)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "must be a new or empty folder with --engine spark" in again.stderr
