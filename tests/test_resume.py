"""Crash-safe, resumable file jobs: killed at random points (SIGKILL, Ctrl-C), resumed, they end
with the output of an uninterrupted run, line for line; a changed job is refused."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

ZSC = [sys.executable, "-m", "zsc.engine.cli"]
ROWS = 3000


@pytest.fixture(scope="module")
def job(tmp_path_factory, tiny_exported):
    folder = tmp_path_factory.mktemp("resume")
    source = folder / "in.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for i in range(ROWS):
            handle.write(json.dumps({"text": f"row {i}: " + "markets and sport news " * (1 + i % 7)}) + "\n")
            if i % 500 == 0:
                handle.write("\n")  # blank lines: output line numbers are the input's, not a count
    model = str(tiny_exported("bert"))
    reference = folder / "reference.jsonl"
    done = subprocess.run([*ZSC, "classify", "--input", str(source), "--labels", "a,b,c", "--model", model,
                           "--output", str(reference), "--chunk-size", "16"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return source, model, reference.read_bytes()


def command(source, model, output, *extra):
    return [*ZSC, "classify", "--input", str(source), "--labels", "a,b,c", "--model", model, "--output", str(output),
            "--chunk-size", "16", *extra]


def progress_record(output):
    return output.parent / (output.name + ".progress.json")


def assert_whole_correct_prefix(output, reference: bytes) -> int:
    """The output's committed lines are whole and equal the reference's first lines; returns how many."""
    record = json.loads((output.parent / (output.name + ".progress.json")).read_text())
    committed = output.read_bytes()[: record["output_bytes"]]
    assert reference.startswith(committed) and (not committed or committed.endswith(b"\n"))
    for line in committed.splitlines():
        json.loads(line)
    return record["rows"]


def committed_rows(output) -> int:
    try:
        return json.loads((output.parent / (output.name + ".progress.json")).read_text())["rows"]
    except (OSError, ValueError):  # not written yet, or between writes
        return 0


def test_killed_at_random_points_then_resumed_equals_an_uninterrupted_run(tmp_path, job):
    source, model, reference = job
    output = tmp_path / "out.jsonl"
    rng = random.Random(7)
    committed = []
    for attempt in range(4):  # three interruptions, then a run to the end
        # The job must see Ctrl-C as a user's terminal sends it, even where this test runs with SIGINT
        # ignored (a background job of a non-interactive shell): Python then keeps ignoring it.
        process = subprocess.Popen(command(source, model, output, *(["--resume"] if attempt else [])),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        if attempt == 3:
            break
        # Kill once the job has made some progress, at a random moment within a chunk.
        target = committed_rows(output) + rng.randint(16, 300)
        while committed_rows(output) < target and process.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        assert process.poll() is None, "the job finished before it could be interrupted; make it longer"
        process.send_signal(signal.SIGINT if attempt == 1 else signal.SIGKILL)  # one Ctrl-C among the kills
        process.wait(timeout=60)
        # A vanished record means the job deleted it (finished, or failed with a ValueError): say which.
        assert progress_record(output).exists(), (attempt, process.returncode, process.stderr.read()[-3000:])
        committed.append(assert_whole_correct_prefix(output, reference))
    process.wait(timeout=300)
    assert process.returncode == 0, process.stderr.read()
    assert committed == sorted(committed) and committed[0] > 0  # progress survives each kill
    assert output.read_bytes() == reference  # no duplicates, no gaps, same scores
    assert not (tmp_path / "out.jsonl.progress.json").exists()  # a finished job leaves only its output


def _interrupted(tmp_path, job):
    source, model, reference = job
    output = tmp_path / "out.jsonl"
    process = subprocess.Popen(command(source, model, output), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while committed_rows(output) < 100 and process.poll() is None:
        time.sleep(0.01)
    process.kill()
    process.wait(timeout=60)
    assert (tmp_path / "out.jsonl.progress.json").exists(), "the job ended before it was killed"
    return source, model, output


def test_a_changed_job_is_refused_instead_of_mixing_results(tmp_path, job):
    source, model, output = _interrupted(tmp_path, job)
    before = output.read_bytes()

    def resume(*args, src=source):
        return subprocess.run([*ZSC, "classify", "--input", str(src), "--model", model, "--output", str(output),
                               "--chunk-size", "16", "--resume", *args], capture_output=True, text=True, timeout=120)

    rerun = subprocess.run(command(source, model, output), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 2 and "unfinished job" in rerun.stderr and "--resume" in rerun.stderr
    other_labels = resume("--labels", "a,b,x")
    assert other_labels.returncode == 2 and "labels was ['a', 'b', 'c'], now ['a', 'b', 'x']" in other_labels.stderr
    multi = resume("--labels", "a,b,c", "--multi-label")
    assert multi.returncode == 2 and "multi_label" in multi.stderr
    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(source.read_bytes().replace(b"row 3:", b"row 3!"))
    moved = resume("--labels", "a,b,c", src=changed)
    assert moved.returncode == 2 and "the input file changed" in moved.stderr
    assert output.read_bytes() == before  # nothing was touched by the refusals
    assert resume("--labels", "a,b,c").returncode == 0
    assert output.read_bytes() == job[2]
    again = resume("--labels", "a,b,c")
    assert again.returncode == 2 and "no progress record" in again.stderr


def test_resume_needs_a_file_output(tmp_path, job):
    source, model, _ = job
    result = subprocess.run([*ZSC, "classify", "--input", str(source), "--labels", "a", "--model", model, "--resume"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--resume needs --output to be a file" in result.stderr
