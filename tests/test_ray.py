"""The Ray Data adapter on a real local Ray cluster (no mocks): same results as the engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ray = pytest.importorskip("ray")

from zsc.engine import CallOptions, ZeroShotClassifier  # noqa: E402
from zsc.engine.load_options import LoadOptions  # noqa: E402
from zsc.engine.ray_data import ZeroShotBatches, classify_dataset, write_files  # noqa: E402

LABELS = ["sports", "business", "world", "science"]
TEXTS = [f"Report {i}: " + ("the team won the final" if i % 3 == 0 else "shares fell as markets slid" if i % 3 == 1
                             else "a probe reached a distant planet") for i in range(30)]


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=150 * 1024 * 1024)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def expected():
    return ZeroShotClassifier.default()(TEXTS, LABELS, legacy=True)


def assert_same_as_engine(rows, expected, tolerance=0.0):
    """Exactly the engine's scores (batch-invariant int8)."""
    assert len(rows) == len(TEXTS)
    for row in rows:
        want = expected[row["id"]]
        assert list(row["labels"]) == want["labels"]
        assert max(abs(a - b) for a, b in zip(row["scores"], want["scores"])) <= tolerance


def test_two_actors_give_the_engines_results(cluster, expected):
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    rows = classify_dataset(ds, LABELS, batch_size=8, concurrency=2, num_cpus=1).take_all()
    assert_same_as_engine(rows, expected)
    assert set(rows[0]) == {"id", "text", "labels", "scores"}  # input columns kept


def test_each_row_can_bring_its_own_labels(cluster):
    """labels_column: a list or a comma-separated string per row; each row's result is the engine's for it alone."""
    own = [LABELS[: 2 + i % 3] for i in range(len(TEXTS))]
    engine = ZeroShotClassifier.default()
    for spelled in (list, ", ".join):  # an Arrow column holds one type: lists, or strings
        items = [{"id": i, "text": t, "labels": spelled(labels)} for i, (t, labels) in enumerate(zip(TEXTS, own))]
        dataset = ray.data.from_items(items)
        rows = classify_dataset(dataset, labels_column="labels", batch_size=7, concurrency=1, multi_label=True).take_all()
        assert len(rows) == len(TEXTS)
        for row in rows:
            want = engine(row["text"], own[row["id"]], multi_label=True, legacy=True)
            assert (list(row["labels"]), list(row["scores"])) == (want["labels"], want["scores"])  # the input column replaced
    with pytest.raises(ValueError, match="exactly one"):
        classify_dataset(dataset, LABELS, labels_column="labels")


def test_onnxruntime_threads_follow_the_actors_cpus(cluster):
    @ray.remote
    def threads_in_actor() -> int:
        batches = ZeroShotBatches(None, LABELS, CallOptions(), "text", LoadOptions(provider="cpu"))
        return batches.classifier.session.inference.get_session_options().intra_op_num_threads

    assert ray.get(threads_in_actor.options(num_cpus=1).remote()) == 1
    assert ray.get(threads_in_actor.options(num_cpus=2).remote()) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"candidate_labels": []}, "candidate_labels is empty"),
    ({"candidate_labels": LABELS, "hypothesis_template": "no slot"}, "{}"),
    ({"candidate_labels": LABELS, "batch_size": 0}, "batch_size must be positive"),
    ({"candidate_labels": LABELS, "threads": 4}, "follow num_gpus and num_cpus"),
])
def test_bad_arguments_fail_before_any_work(cluster, kwargs, message):
    ds = ray.data.from_items([{"text": "x"}])
    with pytest.raises(ValueError, match=message):
        classify_dataset(ds, **kwargs)


def test_a_missing_text_column_is_named(cluster):
    ds = ray.data.from_items([{"body": "x"}])
    with pytest.raises(Exception, match="no column 'text'"):
        classify_dataset(ds, LABELS, concurrency=1).take_all()


def test_cli_reads_csv_files_and_writes_parquet(cluster, tmp_path, expected):
    import pyarrow.parquet as pq

    folder = tmp_path / "in"
    folder.mkdir()
    for part in range(2):
        lines = ["id,text"] + [f'{i},"{TEXTS[i]}"' for i in range(part, len(TEXTS), 2)]
        (folder / f"part{part}.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "zsc.engine.cli", "classify", "--input", str(folder / "*.csv"), "--labels", ",".join(LABELS),
               "--output", str(out), "--engine", "ray", "--address", "auto"]
    result = subprocess.run([*command, "--actors", "2"], capture_output=True, text=True, timeout=300)  # joins this cluster
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_as_engine(pq.read_table(out).to_pylist(), expected)
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "must be a new or empty folder" in refused.stderr


def test_jsonl_output_keeps_15_digits(cluster, tmp_path):
    scores = [0.123456789012345678, 1 / 3]
    write_files(ray.data.from_items([{"id": 0, "labels": ["a", "b"], "scores": scores}]), tmp_path / "out", "jsonl")
    (path,) = (tmp_path / "out").iterdir()
    written = json.loads(path.read_text())["scores"]
    assert max(abs(a - b) for a, b in zip(written, scores)) < 1e-14
