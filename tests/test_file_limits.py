"""File jobs under bad input: rows over the byte bound or of invisible characters are reported by
file and line, unwritable outputs and a full disk are messages (and a job resumes after the
latter), and a named pipe is read once."""

from __future__ import annotations

import json
import os
import threading

import pytest
from zsc_command import zsc


def test_a_row_over_the_byte_bound_stops_the_job_with_file_and_line(tmp_path, tiny_exported):
    source = tmp_path / "big.txt"
    source.write_text("first line\n" + "long " * 400_000 + "\nlast line\n")
    model = str(tiny_exported("bert"))
    result = zsc("classify", "--input", str(source), "--labels", "a,b", "--model", model, "-o", str(tmp_path / "out.jsonl"))
    assert result.returncode == 2 and f"{source}:2: the row is longer than 1048576 bytes" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()  # checked before any work: nothing written
    result = zsc("classify", "--input", str(source), "--labels", "a,b", "--model", model, "-o", str(tmp_path / "out.jsonl"),
                 "--max-row-bytes", "3000000")
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize("output, reason", [("/dev/full", "No space left on device"), ("/proc/zsc-out.jsonl", "")])
def test_unwritable_outputs_are_messages_not_tracebacks(tmp_path, tiny_exported, output, reason):
    source = tmp_path / "in.txt"
    source.write_text("one\ntwo\n")
    result = zsc("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")), "-o", output)
    assert result.returncode in (1, 2) and result.stderr.startswith("zsc: error:") and "Traceback" not in result.stderr
    assert reason in result.stderr


def test_a_full_disk_during_a_job_leaves_no_torn_record_and_resumes(tmp_path, tiny_exported, monkeypatch, capsys):
    import errno

    from zsc.engine import cli
    from zsc.engine.jobs import progress

    source = tmp_path / "in.txt"
    source.write_text("".join(f"text number {i}\n" for i in range(40)))
    out = tmp_path / "out.jsonl"
    args = ["classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")), "-o", str(out),
            "--chunk-size", "10"]
    real_dump, calls = json.dump, []

    def dump_then_fill_the_disk(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(progress.progress_path(out)) + ".tmp")
        return real_dump(*a, **k)

    monkeypatch.setattr(progress.json, "dump", dump_then_fill_the_disk)
    assert cli.main(args) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.tmp")) and progress.progress_path(out).exists()
    monkeypatch.setattr(progress.json, "dump", real_dump)
    assert cli.main([*args, "--resume"]) == 0
    assert [json.loads(line)["line"] for line in out.read_text().splitlines()] == list(range(1, 41))


# 7. Rows that say nothing are reported by file and line; pipes; numpy scalars.

@pytest.mark.parametrize("bad", ["\u200b\u200b", "\x00", "\u2060 \u200d", "\ufeff\ufeff"])
def test_a_row_of_invisible_characters_is_reported_by_file_and_line(tmp_path, tiny_exported, bad):
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps({"text": f"row {i}" if i != 271 else bad}) + "\n" for i in range(1, 301)))
    out = tmp_path / "out.jsonl"
    result = zsc("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")), "-o", str(out))
    assert result.returncode == 2 and f"{source}:271: field 'text' is only whitespace or control characters" in result.stderr
    assert not out.exists()  # every row is checked before the first is classified


def test_a_named_pipe_as_input_is_read_once_and_classified(tmp_path, tiny_exported):
    fifo = tmp_path / "texts.jsonl"
    os.mkfifo(fifo)
    lines = "".join(json.dumps({"text": f"text {i}"}) + "\n" for i in range(5))
    writer = threading.Thread(target=lambda: fifo.write_text(lines))
    writer.start()
    out = tmp_path / "out.jsonl"
    result = zsc("classify", "--input", str(fifo), "--labels", "a,b", "--model", str(tiny_exported("bert")), "-o", str(out))
    writer.join(timeout=10)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in out.read_text().splitlines()] == [f"text {i}" for i in range(5)]
