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
        (["classify", "text"], "give --labels (for every text) or --labels-field"),
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
        ("bad.jsonl", '{"text": "ok"}\n{"text": null}\n', "bad.jsonl:2: field 'text' is null"),
        ("bad.jsonl", '{"text": "ok"}\n' + "[" * 100_000 + "\n", "bad.jsonl:2: invalid JSON"),
        ("bad.csv", "body\nx\n", "no column 'text'"),
        ("bad.csv", 'text\nfirst\n"second, never closed\nthird\nfourth\n', "bad.csv:3: malformed CSV record starting here (a quoted field is never closed)"),
        ("bad.csv", 'id,text\n1,a\n2,b,extra\n', "bad.csv:3: 3 fields, but the header has 2"),
        ("latin1.jsonl", '{"text": "ok"}\n{"text": "caf\xe9"}\n'.encode("latin-1"), "latin1.jsonl:2: not valid UTF-8 (byte 0xe9 at column 14)"),
        ("latin1.txt", "ok\ncaf\xe9\n".encode("latin-1"), "latin1.txt:2: not valid UTF-8"),
        ("bad.xml", "<x/>", "unsupported file type"),
        ("empty.txt", "\n\n", "no texts found"),
    ],
)
def test_bad_files_fail_cleanly(tmp_path, tiny_exported, name, content, message):
    source = tmp_path / name
    source.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out = tmp_path / "out.jsonl"
    result = run("classify", "--input", str(source), "--labels", "a,b", "--output", str(out), "--model", str(tiny_exported("bert")))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not (tmp_path / "out.jsonl.progress.json").exists()


@pytest.mark.parametrize("name, content", [
    ("bom.jsonl", '\ufeff{"text": "good news"}\n{"text": "bad news"}\n'),
    ("bom.csv", "\ufefftext,id\r\ngood news,1\r\nbad news,2\r\n"),  # what Excel writes
    ("bom.txt", "\ufeffgood news\nbad news\n"),
])
def test_utf8_bom_is_accepted(tmp_path, tiny_exported, name, content):
    source = write(tmp_path / name, content)
    result = run("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["good news", "bad news"]


def classify_into(tmp_path, tiny_exported, output, *extra):
    source = write(tmp_path / "in.txt", "good news\nbad news\n")
    return source, run("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")),
                       "--output", str(output), *extra)


def test_output_equal_to_input_is_refused(tmp_path, tiny_exported):
    source = write(tmp_path / "in.txt", "good news\nbad news\n")
    for spelling in (source, tmp_path / "." / "in.txt"):
        result = run("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")), "--output", str(spelling))
        assert result.returncode == 2 and "is the input file" in result.stderr
        assert source.read_text() == "good news\nbad news\n"
    link = tmp_path / "link.jsonl"
    link.symlink_to(source)
    result = run("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")), "--output", str(link))
    assert result.returncode == 2 and "is the input file" in result.stderr
    assert source.read_text() == "good news\nbad news\n"


def test_output_directory_or_missing_folder_is_refused(tmp_path, tiny_exported):
    for output, message in ((tmp_path, "is a directory"), (tmp_path / "no" / "out.jsonl", "does not exist")):
        _, result = classify_into(tmp_path, tiny_exported, output)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.progress.json"))


def test_output_symlink_is_followed_and_kept(tmp_path, tiny_exported):
    target = write(tmp_path / "real.jsonl", "old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    _, result = classify_into(tmp_path, tiny_exported, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and len(target.read_text().splitlines()) == 2


def test_output_to_a_device_or_stdout_writes_through(tmp_path, tiny_exported):
    _, result = classify_into(tmp_path, tiny_exported, "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["good news", "bad news"]
    _, dash = classify_into(tmp_path, tiny_exported, "-")
    assert dash.returncode == 0 and [json.loads(l)["line"] for l in dash.stdout.splitlines()] == [1, 2]
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("args, message", [
    (["classify", "text", "--labels", "a", "--output", "o.jsonl"], "--output applies to --input files only"),
    (["classify", "text", "--labels", "a", "--text-field", "body"], "--text-field applies to --input files only"),
    (["classify", "--input", "x.txt", "--labels", "a", "--json"], "--json applies to texts given as arguments"),
    (["classify", "--input", "x.txt", "--labels", "a", "--output", "out", "--engine", "ray", "--max-row-bytes", "9"],
     "--max-row-bytes applies to --engine local"),  # refused before Ray is imported: never silently ignored
])
def test_contradictory_flags_are_refused(args, message):
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr


def test_help_shows_defaults():
    for command, flags in (("classify", ["--chunk-size", "--batch-size", "--provider"]),
                           ("export", ["--quantize", "--optimize"]),
                           ("serve", ["--port", "--cache-entries", "--provider", "--header-timeout", "--read-timeout"])):
        text = " ".join(run(command, "--help").stdout.split())
        for flag in flags:
            assert flag in text
        assert text.count("default:") >= len(flags), (command, text)


def test_missing_input_file(tmp_path):
    result = run("classify", "--input", str(tmp_path / "none.jsonl"), "--labels", "a")
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.slow
def test_50k_line_file_streams_in_constant_memory(tmp_path, tiny_exported):
    """Peak RSS must not grow with the file: a 50k-line run peaks close to a 5k-line run (results
    kept in memory would add tens of MB)."""
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

    small, large = peak_rss_kb(5_000), peak_rss_kb(50_000)
    assert large < small * 1.15 + 10_000, (small, large)


def test_undecodable_argument_bytes_are_a_clear_error(tiny_exported):
    """argv bytes that are not UTF-8 reach Python as lone surrogates: an error, not a tokenizers traceback."""
    result = subprocess.run([*ZSC, "classify", b"caf\xe9 au lait", "--labels", "a,b", "--model", str(tiny_exported("bert"))],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "not valid Unicode" in result.stderr and "Traceback" not in result.stderr


def test_make_run_prints_the_example(tmp_path):
    """`make run`, the README's first command, classifies the example with the embedded model."""
    from conftest import REPO

    result = subprocess.run(["make", "-s", "run"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[-4].startswith("Hi, I recently bought a device")
    ranked = [line.split()[0] for line in lines[-3:]]
    assert sorted(ranked) == ["faq", "legal", "refund"] and ranked[0] == "refund"


def test_window_defaults_are_quoted_from_defaults_py():
    """--help, the docs, the __call__ docstring and the OpenAPI contract read the window defaults from one place."""
    from pathlib import Path

    from zsc.engine import ZeroShotClassifier
    from zsc.engine.defaults import DEFAULT_WINDOW_TOKENS, LONG_TEXT_MAX_TOKENS, describe_window_defaults

    quoted = describe_window_defaults()
    assert quoted == ", ".join(f"{size} for {mode}" for mode, size in DEFAULT_WINDOW_TOKENS.items())
    shown = " ".join(run("classify", "--help").stdout.split())
    assert f"default: {quoted}" in shown and f"first {LONG_TEXT_MAX_TOKENS} tokens" in shown
    readme = " ".join((Path(__file__).resolve().parents[1] / "docs" / "many-labels-long-texts.md").read_text().split())
    assert f"(default: {quoted};" in readme and f"`LONG_TEXT_MAX_TOKENS` = {LONG_TEXT_MAX_TOKENS:,}" in readme
    doc = " ".join((ZeroShotClassifier.__call__.__doc__ or "").split())
    assert quoted in doc and "DEFAULT_WINDOW_TOKENS" in doc and "LONG_TEXT_MAX_TOKENS" in doc
    pytest.importorskip("fastapi")
    from zsc.engine.server.openapi import openapi_contract

    assert f"(default: {quoted})" in json.dumps(openapi_contract()[0])
