"""Nothing a user owns is lost through a file job's output, --force or --resume, and tune reads
examples as file jobs read rows; an interrupted export or tune cleans up after itself.
Items 1-4, 7, 10 and 11 of the third hardening round, each with variants of its own."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from zsc_command import ZSC, zsc

from zsc.engine import ZeroShotClassifier
from zsc.engine.jobs.classify_file import FileJob, classify_file
from zsc.engine.jobs.files import InputFileError
from zsc.engine.jobs.progress import progress_path
from zsc.engine.model_files import MANIFEST_NAME
from zsc.engine.options import CallOptions

ROWS = 300




@pytest.fixture(scope="module")
def model(tiny_exported) -> str:
    return str(tiny_exported("bert"))


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"text": f"row {i} about markets and sport"}) + "\n" for i in range(ROWS)))
    return path


# 1. The output of a file job is never its input, however it is reached.

@pytest.mark.parametrize("how", ["stdout appended", "-o - appended", "-o /dev/stdout appended", "stdout read-write",
                                 "stdout onto a hard link", "-o /proc/self/fd/1"])
def test_results_are_never_written_into_the_input(tmp_path, source, model, how):
    before = source.read_bytes()
    args = ["classify", "--input", str(source), "--labels", "a,b", "--model", model]
    if how == "stdout onto a hard link":
        link = tmp_path / "same-inode.jsonl"
        os.link(source, link)
        target, mode = link, "ab"
    else:
        target, mode = source, "r+b" if how == "stdout read-write" else "ab"
    args += {"-o - appended": ["-o", "-"], "-o /dev/stdout appended": ["-o", "/dev/stdout"],
             "-o /proc/self/fd/1": ["-o", "/proc/self/fd/1"]}.get(how, [])
    with open(target, mode) as stdout:
        result = subprocess.run([*ZSC, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "is the input file" in result.stderr and "Traceback" not in result.stderr
    assert source.read_bytes() == before  # checked before the first row was read or written


def test_stdout_to_another_file_still_works(tmp_path, source, model):
    with open(tmp_path / "out.jsonl", "wb") as stdout:
        result = subprocess.run([*ZSC, "classify", "--input", str(source), "--labels", "a,b", "--model", model], stdout=stdout,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == ROWS


# 2-3. --force replaces only what zsc wrote, and never touches a user's path beside it.

def _exported(tiny_hf, out: Path) -> Path:
    from zsc.export import export_model

    export_model(str(tiny_hf("bert")), out, quantize="none", optimize="none", progress=False)
    return out


@pytest.mark.parametrize("case, message", [
    ("an empty manifest", "zsc did not write"),
    ("a manifest with its digest recomputed by hand", "zsc did not write"),
    ("a manifest of the wrong shape", "not a zsc manifest"),
    ("a real export with a user's file added", "does not list (notes.txt)"),
    ("a real export's manifest copied into a user's folder", "does not list"),
])
def test_force_replaces_only_a_directory_exactly_as_zsc_wrote_it(tmp_path, tiny_hf, case, message):
    from zsc.export import export_model

    target = tmp_path / "d"
    if case.startswith("a real export"):
        _exported(tiny_hf, target if "added" in case else tmp_path / "real")
        if "copied" in case:
            target.mkdir()
            (target / MANIFEST_NAME).write_bytes((tmp_path / "real" / MANIFEST_NAME).read_bytes())
    else:
        target.mkdir()
        manifest = {"an empty manifest": "{}", "a manifest of the wrong shape": json.dumps({"zsc_version": "0.1.0"}),
                    "a manifest with its digest recomputed by hand": json.dumps({"manifest_sha256": "0" * 64})}[case]
        (target / MANIFEST_NAME).write_text(manifest)
    if case == "a manifest of the wrong shape":
        from zsc.engine.model_files import write_manifest

        write_manifest(target / MANIFEST_NAME, {"zsc_version": "0.1.0", "files": {}})
    (target / "notes.txt").write_text("keep")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        export_model(str(tiny_hf("bert")), target, quantize="none", optimize="none", force=True, progress=False)
    assert (target / "notes.txt").read_text() == "keep"


def test_zsc_tune_force_refuses_a_user_folder_before_training(tmp_path, tiny_hf):
    examples = tmp_path / "examples.jsonl"
    examples.write_text("".join(json.dumps({"text": f"text {i}", "label": "ab"[i % 2]}) + "\n" for i in range(6)))
    target = tmp_path / "d"
    target.mkdir()
    (target / MANIFEST_NAME).write_text("{}")
    (target / "notes.txt").write_text("keep")
    started = time.perf_counter()
    result = zsc("tune", str(tiny_hf("bert")), str(target), "--examples", str(examples), "--force")
    assert result.returncode == 2 and "--force will not replace" in result.stderr, result.stderr
    assert (target / "notes.txt").read_text() == "keep" and time.perf_counter() - started < 60


@pytest.mark.parametrize("user_path", [".out.old", ".out.old/inner.txt", ".out.replaced-mine"])
def test_force_keeps_a_users_files_beside_the_output(tmp_path, tiny_hf, user_path):
    from zsc.export import export_model

    out = _exported(tiny_hf, tmp_path / "out")
    mine = tmp_path / user_path
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text("mine")
    export_model(str(tiny_hf("bert")), out, quantize="none", optimize="none", force=True, progress=False)
    assert mine.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"out", user_path.split("/")[0]})  # nothing of zsc's left


# 4. A progress record binds to its output.

class _Interrupting:
    """A classifier that is interrupted (Ctrl-C) at its n-th call, like a killed job."""

    def __init__(self, classifier: ZeroShotClassifier, calls: int):
        self.classifier, self.calls = classifier, calls

    def __getattr__(self, name):
        return getattr(self.classifier, name)

    def __call__(self, *args, **kwargs):
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return self.classifier(*args, **kwargs)


@pytest.fixture
def interrupted(tmp_path, source, model) -> tuple[Path, Path]:
    """An output with three committed chunks of 16 rows and its record, as a killed job leaves them."""
    output = tmp_path / "out.jsonl"
    job = FileJob.of(["a", "b"], CallOptions(), chunk_size=16)
    with pytest.raises(KeyboardInterrupt):
        classify_file(_Interrupting(ZeroShotClassifier.from_pretrained(model), 3), source, output, job)
    assert json.loads(progress_path(output).read_text())["rows"] == 48
    return output, progress_path(output)


def _resume(source: Path, output: Path, model: str) -> subprocess.CompletedProcess:
    return zsc("classify", "--input", str(source), "--labels", "a,b", "--model", model, "-o", str(output), "--chunk-size", "16",
               "--resume")


def _edit_record(record: Path, **changes) -> None:
    data = json.loads(record.read_text())
    data.update(changes)
    record.write_text(json.dumps(data))


@pytest.mark.parametrize("tamper, message", [
    ("a record copied beside an unrelated file", "not the output"),
    ("last_line edited to 10^9", "counts 48 rows up to input line 1000000000"),
    ("rows and last_line edited together", "counts 3000 rows"),
    ("a committed byte changed", "not the ones the job wrote"),
    ("output_bytes edited", "not the ones the job wrote"),
    ('{"job": null}', "not a readable zsc progress record"),
    ("job null with every other field", "job must be an object"),
    ("format 1 (no digest)", "expected the fields"),
    ("a negative row count", "rows must be a whole number"),
])
def test_resume_refuses_a_record_that_does_not_match_its_output_and_changes_nothing(interrupted, source, model, tmp_path, tamper,
                                                                                     message):
    output, record = interrupted
    if tamper == "a record copied beside an unrelated file":
        other = tmp_path / "mine.jsonl"
        other.write_text("".join(f"my precious line {i}\n" for i in range(2000)))
        progress_path(other).write_bytes(record.read_bytes())
        output, record = other, progress_path(other)
    elif tamper == "last_line edited to 10^9":
        _edit_record(record, last_line=10**9)
    elif tamper == "rows and last_line edited together":
        _edit_record(record, rows=3000, last_line=3000)
    elif tamper == "a committed byte changed":
        data = bytearray(output.read_bytes())
        data[100] = ord("X") if data[100] != ord("X") else ord("Y")
        output.write_bytes(bytes(data))
    elif tamper == "output_bytes edited":
        _edit_record(record, output_bytes=json.loads(record.read_text())["output_bytes"] // 2)
    elif tamper == '{"job": null}':
        record.write_text('{"job": null}')
    elif tamper == "job null with every other field":
        _edit_record(record, job=None)
    elif tamper == "format 1 (no digest)":
        data = json.loads(record.read_text())
        del data["output_sha256"]
        record.write_text(json.dumps(data | {"format": 1}))
    else:
        _edit_record(record, rows=-5)
    before, record_before = output.read_bytes(), record.read_bytes()
    result = _resume(source, output, model)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert output.read_bytes() == before and record.read_bytes() == record_before  # every byte in place


def test_an_honest_interrupted_job_still_resumes_to_the_whole_output(interrupted, source, model, tmp_path):
    output, record = interrupted
    with open(output, "ab") as torn:  # a chunk half-written after the last record
        torn.write(b'{"line": 49, "text": "row 48 ab')
    result = _resume(source, output, model)
    assert result.returncode == 0, result.stderr
    reference = tmp_path / "reference.jsonl"
    assert zsc("classify", "--input", str(source), "--labels", "a,b", "--model", model, "-o", str(reference)).returncode == 0
    assert output.read_bytes() == reference.read_bytes() and not record.exists()


# 7, 10, 11. zsc tune reads examples as file jobs read rows.

def _tune_examples(tmp_path: Path, lines: list[bytes], suffix: str = ".jsonl") -> Path:
    path = tmp_path / f"examples{suffix}"
    path.write_bytes(b"".join(lines))
    return path


GOOD = [json.dumps({"text": f"text {i}", "label": "ab"[i % 2]}).encode() + b"\n" for i in range(4)]


@pytest.mark.parametrize("bad, message", [
    (json.dumps({"text": "x" * 3_000_000, "label": "a"}).encode() + b"\n", "examples.jsonl:5: the row is longer than"),
    (b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b', "label": "a"}\n', "examples.jsonl:5: invalid JSON (nested too deeply)"),
    (b'{"text": "caf\xe9", "label": "a"}\n', "examples.jsonl:5: not valid UTF-8 (byte 0xe9"),
    (json.dumps({"text": "\u0301\u0301", "label": "a"}).encode() + b"\n", "examples.jsonl:5: field 'text' must be a non-empty string with something"),
    (json.dumps({"text": "ok", "label": "\u2800"}).encode() + b"\n", "examples.jsonl:5: field 'label' must be a non-empty string with something"),
    (json.dumps({"text": "ok", "label": "L" * 2500}).encode() + b"\n", "examples.jsonl:5: field 'label': the hypothesis"),
])
def test_tune_examples_are_read_as_file_jobs_read_rows(tmp_path, tiny_hf, bad, message):
    from zsc.export.tune import read_examples

    path = _tune_examples(tmp_path, [*GOOD, bad, *GOOD])
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_examples(path)
    result = zsc("tune", str(tiny_hf("bert")), str(tmp_path / "out"), "--examples", str(path))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]


def test_tune_row_bound_is_a_flag_and_csv_rows_are_bounded_too(tmp_path):
    from zsc.export.tune import read_examples

    csv_path = _tune_examples(tmp_path, [b"text,label\n", b"short,a\n", b'"' + b"y" * 5000 + b'",b\n'], ".csv")
    with pytest.raises(ValueError, match=r"examples.csv:3: the row is longer than 4096 bytes; raise --max-row-bytes \(zsc tune\)"):
        read_examples(csv_path, max_row_bytes=4096)
    assert [e.label for e in read_examples(csv_path, max_row_bytes=8192)] == ["a", "b"]


def test_a_label_longer_than_the_runtime_accepts_with_the_template_is_refused_before_training(tmp_path, tiny_hf):
    from zsc.export.tune import tune_model

    path = _tune_examples(tmp_path, [json.dumps({"text": f"t{i}", "label": "L" * 1900 if i % 2 else "b"}).encode() + b"\n"
                                     for i in range(4)])
    with pytest.raises(ValueError, match="would be .* characters long"):
        tune_model(str(tiny_hf("bert")), tmp_path / "out", path, template="A long template around the label. " * 4 + "{}.")
    assert not (tmp_path / "out").exists()


# 11. Texts that show nothing are refused like zero-width ones.

@pytest.mark.parametrize("text", ["\u0301\u0301\u0301", "\ufe0f\ufe0f", "\u2800 \u2800", "\u3164", " \u0301\u200b "])
def test_texts_that_show_nothing_are_refused_everywhere(tmp_path, model, text):
    from zsc.engine.inputs import InputError

    classifier = ZeroShotClassifier.from_pretrained(model)
    with pytest.raises(InputError, match="no visible character|only whitespace"):
        classifier(text, ["a", "b"])
    with pytest.raises(InputError, match="no visible character|only whitespace"):
        classifier("a real text", ["a", text])
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"text": "fine"}) + "\n" + json.dumps({"text": text}) + "\n")
    with pytest.raises(InputFileError, match="rows.jsonl:2: field 'text'"):
        classify_file(classifier, rows, tmp_path / "o.jsonl", FileJob.of(["a", "b"], CallOptions()))
    assert classifier("e\u0301te\u0301 \U0001f600\ufe0f", ["a", "b"])  # marks on a letter are text


# 11. SIGTERM during export or tune leaves nothing behind.

def _terminate_when(process: subprocess.Popen, started, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the command ended before it could be terminated"
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)


@pytest.mark.parametrize("command", ["export", "tune"])
def test_sigterm_during_export_or_tune_cleans_up(tmp_path, tiny_hf, command):
    workdir, scratch = tmp_path / "work", tmp_path / "tmp"
    workdir.mkdir()
    scratch.mkdir()
    args = ["export", str(tiny_hf("bert")), str(workdir / "out"), "--quantize", "int8,fp16-w8"]
    if command == "tune":
        examples = _tune_examples(tmp_path, [json.dumps({"text": f"text {i} " * 20, "label": "ab"[i % 2]}).encode() + b"\n"
                                             for i in range(400)])
        args = ["tune", str(tiny_hf("bert")), str(workdir / "out"), "--examples", str(examples), "--epochs", "50"]
    process = subprocess.Popen([*ZSC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=os.environ | {"TMPDIR": str(scratch)})
    if command == "export":
        _terminate_when(process, lambda: any(p.name.startswith(".out.partial-") for p in workdir.iterdir()))
    else:
        _terminate_when(process, lambda: any(scratch.glob("zsc-tune-*")))  # made just before training starts
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert "terminated" in stderr and "Traceback" not in stderr
    assert list(workdir.iterdir()) == [] and not list(scratch.glob("zsc-tune-*"))


def _committed(output: Path) -> int:
    try:
        return json.loads(progress_path(output).read_text())["rows"]
    except (OSError, ValueError):  # not written yet
        return 0


def test_a_terminated_file_job_keeps_its_committed_rows_resumable(tmp_path, source, model):
    output = tmp_path / "out.jsonl"
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"text": f"row {i} " + "markets and sport " * 20}) + "\n" for i in range(4000)))
    process = subprocess.Popen([*ZSC, "classify", "--input", str(big), "--labels", "a,b", "--model", model, "-o", str(output),
                                "--chunk-size", "16"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _terminate_when(process, lambda: _committed(output) > 0)
    process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    record = json.loads(progress_path(output).read_text())
    committed = output.read_bytes()[: record["output_bytes"]]
    assert hashlib.sha256(committed).hexdigest() == record["output_sha256"]
    result = zsc("classify", "--input", str(big), "--labels", "a,b", "--model", model, "-o", str(output), "--chunk-size", "16",
                 "--resume")
    assert result.returncode == 0 and len(output.read_text().splitlines()) == 4000, result.stderr
