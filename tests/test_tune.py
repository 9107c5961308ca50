"""`zsc tune`: few-shot examples in, a normal zsc model directory out (tiny model; the accuracy
gain on the real model is measured by `make bench-tune`)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from test_server import running, wait_ready

from zsc.engine import ZeroShotClassifier
from zsc.engine.model_files import MANIFEST_NAME
from zsc.engine.server.config import ServerConfig

ZSC = [sys.executable, "-m", "zsc.engine.cli"]
LABELS = ["sports", "business", "science"]
TEXTS = {"sports": ["The team won the final.", "A late goal decided the match.", "The striker signed a new contract."],
         "business": ["Shares fell after the report.", "The bank raised its rates.", "Profits doubled this quarter."],
         "science": ["The probe reached Mars.", "A new vaccine was tested.", "Physicists measured the particle."]}


def zsc(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*ZSC, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def examples(tmp_path) -> Path:
    path = tmp_path / "examples.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for label, texts in TEXTS.items() for t in texts))
    return path


@pytest.fixture(scope="module")
def tuned(tiny_hf, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tuned")
    path = folder / "examples.csv"
    rows = [f'"{t}",{label}' for label, texts in TEXTS.items() for t in texts]
    path.write_text("sentence,topic\n" + "\n".join(rows) + "\n")
    out = folder / "model"
    result = zsc("tune", str(tiny_hf("bert")), str(out), "--examples", str(path), "--text-field", "sentence", "--label-field", "topic",
                 "--epochs", "2", "--template", "The topic is {}.", "--seed", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["tuning"]["labels"] == LABELS
    return out, path


def _digest(directory: Path) -> str:
    return hashlib.sha256((directory / "model.onnx").read_bytes()).hexdigest()


def test_the_manifest_records_the_tuning(tuned, tiny_hf):
    out, examples = tuned
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    tuning = manifest["tuning"]
    assert tuning["examples_sha256"] == hashlib.sha256(examples.read_bytes()).hexdigest()
    assert tuning["labels"] == LABELS and tuning["examples_per_label"] == {label: 3 for label in LABELS}
    assert tuning["template"] == "The topic is {}." and tuning["epochs"] == 2 and tuning["seed"] == 3
    assert tuning["pairs"] == 9 * 3 and tuning["base_model"] == str(tiny_hf("bert"))  # 1 entailment + 2 contradictions each
    assert manifest["source"] == str(tiny_hf("bert")) and manifest["precision"] == "int8"
    assert {v["precision"] for v in manifest["variants"]} == {"fp16"}
    assert manifest["parity"]["int8"]["batch_invariance_max_abs_logit_diff"] == 0.0


def test_the_tuned_directory_runs_without_torch_and_serves(tuned):
    out, _ = tuned
    script = ("import sys; from zsc.engine import ZeroShotClassifier; "
              f"r = ZeroShotClassifier.from_pretrained({str(out)!r})('The goalkeeper saved a penalty.', {LABELS!r}, "
              "hypothesis_template='The topic is {}.'); "
              "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; print(r[0]['label'])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() in LABELS, result.stderr
    alone = ZeroShotClassifier.from_pretrained(out)("Shares fell.", LABELS)
    together = ZeroShotClassifier.from_pretrained(out, batch_size=2)(["A long text about many things. " * 5, "Shares fell.", "x"], LABELS)[1]
    assert alone == together  # batch-invariant, as every int8 export
    with running(ServerConfig(models={"tuned": out})) as base:
        wait_ready(base)
        response = httpx.post(base + "/models/tuned", json={"inputs": "Shares fell.", "parameters": {"candidate_labels": LABELS}})
    assert response.status_code == 200 and response.json() == [{"label": p["label"], "score": pytest.approx(p["score"], abs=1e-6)}
                                                                for p in alone]


def test_the_same_seed_gives_the_same_model_and_another_seed_another(tuned, tiny_hf, tmp_path):
    out, examples = tuned
    common = ["--examples", str(examples), "--text-field", "sentence", "--label-field", "topic", "--epochs", "2",
              "--template", "The topic is {}."]
    assert zsc("tune", str(tiny_hf("bert")), str(tmp_path / "again"), *common, "--seed", "3").returncode == 0
    assert zsc("tune", str(tiny_hf("bert")), str(tmp_path / "other"), *common, "--seed", "4").returncode == 0
    assert _digest(tmp_path / "again") == _digest(out)
    assert _digest(tmp_path / "other") != _digest(out)


@pytest.mark.parametrize("content, args, message", [
    ('{"text": "a", "label": "x"}\n{"body": "b", "label": "y"}\n', [], r"examples.jsonl:2: no field 'text'"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n', ["--label-field", "topic"], r"examples.jsonl:1: no field 'topic'"),
    ('{"text": "a", "label": "x"}\n{"text": "  ", "label": "y"}\n', [], r"examples.jsonl:2: field 'text' must be a non-empty string"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "x"}\n', [], r"tuning needs at least 2 labels"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n', ["--labels", "x,y,z"], r"label 'z' has no examples"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "w"}\n', ["--labels", "x,y"], r"label 'w' is not one of --labels"),
    ('{"text": "a", "label": "x"}\nnot json\n', [], r"examples.jsonl:2: invalid JSON"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n', ["--template", "no slot"], "hypothesis_template .no slot. was not able to be formatted"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n', ["--template", "{:>99999}"], "may stand where the label goes"),
    ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n', ["--epochs", "0"], r"epochs must be a positive integer"),
])
def test_bad_examples_and_options_fail_before_any_training(tmp_path, tiny_hf, content, args, message):
    path = tmp_path / "examples.jsonl"
    path.write_text(content)
    result = zsc("tune", str(tiny_hf("bert")), str(tmp_path / "out"), "--examples", str(path), *args, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert __import__("re").search(message, result.stderr), result.stderr
    assert not (tmp_path / "out").exists()


def test_a_csv_without_the_label_column_is_named(tmp_path, tiny_hf):
    path = tmp_path / "examples.csv"
    path.write_text("text,category\na,x\nb,y\n")
    result = zsc("tune", str(tiny_hf("bert")), str(tmp_path / "out"), "--examples", str(path), timeout=120)
    assert result.returncode == 2 and "no column 'label' (columns: ['text', 'category'])" in result.stderr
