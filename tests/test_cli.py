"""The zsc command as a user runs it: a real subprocess, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ZSC = [sys.executable, "-m", "zsc.engine.cli"]


def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*ZSC, *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("classify", "export", "serve"):
        assert command in result.stdout


def test_classify_with_embedded_model_json():
    text = "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!"
    result = run("classify", text, "--labels", "refund,legal,faq", "--json")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)
    assert [p["label"] for p in predictions][0] == "refund"
    assert sum(p["score"] for p in predictions) == pytest.approx(1.0, abs=1e-6)


def test_classify_table_and_multi_label(tiny_exported):
    result = run("classify", "first text", "second text", "--labels", "a,b", "--multi-label", "--model", str(tiny_exported("bert")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("first text") == 1 and " a " in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["classify", "text"], "required: --labels"),
        (["classify", "--labels", "a"], "nothing to classify"),
        (["classify", "t", "--labels", " , "], "at least one label"),
        (["classify", "t", "--labels", "a", "--template", "no slot"], "hypothesis_template"),
        (["classify", "t", "--labels", "a", "--model", "/nonexistent/model"], "model directory not found"),
    ],
)
def test_classify_errors_exit_nonzero(args, message):
    result = run(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name, content, field",
    [
        ("in.jsonl", '{"text": "good news"}\n\n{"text": "bad news", "id": 2}\n', "text"),
        ("in.csv", 'id,body\n1,good news\n2,"bad, news"\n', "body"),
        ("in.txt", "good news\n\nbad news\n", "text"),
    ],
)
def test_classify_files(tmp_path, tiny_exported, name, content, field):
    source = write(tmp_path / name, content)
    out = tmp_path / "out.jsonl"
    result = run("classify", "--input", str(source), "--text-field", field, "--labels", "a,b,c",
                 "--output", str(out), "--model", str(tiny_exported("bert")), "--chunk-size", "1")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["good news", "bad, news" if name.endswith("csv") else "bad news"]
    assert all(sorted(r["labels"]) == ["a", "b", "c"] and len(r["scores"]) == 3 for r in rows)
    assert "classified 2 texts" in result.stderr


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.jsonl", '{"text": "ok"}\n{oops\n', "bad.jsonl:2: invalid JSON"),
        ("bad.jsonl", '{"text": "ok"}\n{"body": "x"}\n', "bad.jsonl:2: no field 'text'"),
        ("bad.jsonl", '{"text": 5}\n', "must be a string"),
        ("bad.csv", "body\nx\n", "no column 'text'"),
        ("bad.xml", "<x/>", "unsupported file type"),
        ("empty.txt", "\n\n", "no texts found"),
    ],
)
def test_bad_files_fail_cleanly(tmp_path, tiny_exported, name, content, message):
    source = write(tmp_path / name, content)
    out = tmp_path / "out.jsonl"
    result = run("classify", "--input", str(source), "--labels", "a,b", "--output", str(out), "--model", str(tiny_exported("bert")))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not (tmp_path / "out.jsonl.partial").exists()


def test_missing_input_file(tmp_path):
    result = run("classify", "--input", str(tmp_path / "none.jsonl"), "--labels", "a")
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.slow
def test_100k_line_file_streams_in_constant_memory(tmp_path, tiny_exported):
    """Peak RSS must not grow with the file: a 100k-line run peaks close to a 10k-line run."""
    model = str(tiny_exported("bert"))

    def peak_rss_kb(lines: int) -> int:
        source = tmp_path / f"in{lines}.txt"
        with open(source, "w") as handle:
            for i in range(lines):
                handle.write(f"line number {i} says something about sports or business\n")
        code = (
            "import resource, sys; from zsc.engine.cli import main; "
            f"rc = main(['classify', '--input', {str(source)!r}, '--labels', 'a,b', '--output', {str(tmp_path / 'o.jsonl')!r}, "
            f"'--model', {model!r}, '--chunk-size', '512', '--batch-size', '64']); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-2000:]
        assert sum(1 for _ in open(tmp_path / "o.jsonl")) == lines
        return int(result.stdout.strip().splitlines()[-1])

    small, large = peak_rss_kb(10_000), peak_rss_kb(100_000)
    assert large < small * 1.15 + 10_000, (small, large)
