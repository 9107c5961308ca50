"""A manifest names only files inside its directory that it hashes, every field is checked, and a
broken checkpoint or manifest is one message naming the file, never a traceback (items 9 and 10
of the third hardening round)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from zsc_command import zsc

from zsc.engine.model_dir import load_model_directory
from zsc.engine.model_files import MANIFEST_NAME, write_manifest


@pytest.fixture
def copy_of_default(tmp_path, default_model_dir) -> Path:
    """The embedded model (int8 with its twin and an fp16 graph), copied to edit."""
    return Path(shutil.copytree(default_model_dir, tmp_path / "model"))


def redigest(directory: Path, edit) -> None:
    """Edit the manifest as a deliberate tamperer would: then recompute its digest."""
    data = json.loads((directory / MANIFEST_NAME).read_text())
    edit(data, directory)
    write_manifest(directory / MANIFEST_NAME, data)


def _twin_weights_elsewhere(data, directory):
    shutil.copy(directory / "weights.bin", directory / "other.bin")
    data["int8_view"]["weights"] = "other.bin"


def _main_graph(name):
    def edit(data, _):
        data["int8_view"] = {}
        data["model_file"] = name
    return edit


@pytest.mark.parametrize("edit, message", [
    (_twin_weights_elsewhere, "names other.bin but records no sha256 for it"),
    (lambda d, _: d["int8_view"].update(weights="../weights.bin"), "int8_view.weights must be a file name inside the model directory"),
    (lambda d, _: d["int8_view"].update(file="/tmp/model_int8_dot.onnx"), "int8_view.file must be a file name inside"),
    (_main_graph("../elsewhere.onnx"), "the file of the int8 graph must be a file name inside the model directory, got '../elsewhere.onnx'"),
    (_main_graph("/etc/model.onnx"), "got '/etc/model.onnx'"),
    (lambda d, _: d["variants"][0].update(file="sub/model_fp16.onnx"), "the file of the fp16 graph must be a file name inside"),
    (lambda d, _: d.update(files=list(d["files"])), "files must be an object"),
    (lambda d, _: d["files"].update({"../x": "0" * 64}), "each name in files must be a file name inside"),
    (lambda d, _: d.update(max_length="512"), "max_length must be a whole number from 2 to 131072, got '512'"),
    (lambda d, _: d.update(max_length=10**9), "max_length must be a whole number"),
    (lambda d, _: d.update(pad_token_id=10**12), "pad_token_id must be a whole number"),
    (lambda d, _: d.update(pad_token_id=True), "pad_token_id must be a whole number"),
    (lambda d, _: d.update(entailment_id="2"), "entailment_id 2 is not one of the model's outputs"),
    (lambda d, _: d.update(id2label={"0": "a", "two": "b"}), "invalid literal for int"),
    (lambda d, _: d.update(variants={"precision": "fp16"}), "variants must be a list of objects"),
])
def test_a_redigested_manifest_is_checked_field_by_field(copy_of_default, edit, message):
    redigest(copy_of_default, edit)
    with pytest.raises(ValueError) as error:
        load_model_directory(copy_of_default)
    assert message in str(error.value) and str(copy_of_default) in str(error.value), str(error.value)


def test_a_pad_id_outside_the_vocabulary_is_refused_at_load(copy_of_default):
    from zsc.engine import ZeroShotClassifier

    redigest(copy_of_default, lambda d, _: d.update(pad_token_id=31_000))
    with pytest.raises(ValueError, match="pad_token_id 31000 is not a token of the tokenizer"):
        ZeroShotClassifier.from_pretrained(copy_of_default)


@pytest.mark.parametrize("content", [b"[" * 200_000 + b"]" * 200_000, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, b"\xff\xfe{}"])
def test_a_manifest_that_cannot_be_parsed_names_its_file(copy_of_default, content):
    (copy_of_default / MANIFEST_NAME).write_bytes(content)
    result = zsc("classify", "a text", "--labels", "a,b", "--model", str(copy_of_default))
    assert result.returncode == 2 and f"{copy_of_default / MANIFEST_NAME} is not valid JSON" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_reports_a_tampered_manifest_without_a_traceback(copy_of_default):
    redigest(copy_of_default, _main_graph("../../outside.onnx"))
    result = zsc("classify", "a text", "--labels", "a,b", "--model", str(copy_of_default))
    assert result.returncode == 2 and "must be a file name inside the model directory" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_untampered_copy_still_loads(copy_of_default):
    from zsc.engine import ZeroShotClassifier

    assert ZeroShotClassifier.from_pretrained(copy_of_default)("I want my money back", ["refund", "faq"])


# 10. A broken checkpoint is a message naming the file.

def _broken_copy(tiny_hf, tmp_path: Path, breakage: str) -> Path:
    source = Path(shutil.copytree(tiny_hf("bert"), tmp_path / "checkpoint"))
    tokenizer, weights = source / "tokenizer.json", source / "model.safetensors"
    if breakage == "tokenizer.json of random bytes":
        tokenizer.write_bytes(bytes(range(256)) * 8)
    elif breakage == "tokenizer.json of the wrong schema":
        tokenizer.write_text('{"version": "1.0", "model": 5}')
    elif breakage == "tokenizer.json nested":
        tokenizer.write_text("[" * 100_000 + "]" * 100_000)
    elif breakage == "tokenizer.json missing":
        tokenizer.unlink()
    elif breakage == "safetensors truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size * 9 // 10])
    elif breakage == "safetensors header damaged":
        data = bytearray(weights.read_bytes())
        data[10:40] = bytes(30)
        weights.write_bytes(bytes(data))
    elif breakage == "model_max_length 4":
        config = json.loads((source / "tokenizer_config.json").read_text())
        (source / "tokenizer_config.json").write_text(json.dumps(config | {"model_max_length": 4}))
    elif breakage == "label2id with an id 'two'":
        config = json.loads((source / "config.json").read_text())
        config["label2id"][next(iter(config["label2id"]))] = "two"
        (source / "config.json").write_text(json.dumps(config))
    return source


@pytest.mark.parametrize("breakage, message", [
    ("tokenizer.json of random bytes", "tokenizer.json: not a tokenizers file"),
    ("tokenizer.json of the wrong schema", "tokenizer.json: not a tokenizers file"),
    ("tokenizer.json nested", "tokenizer.json: not a tokenizers file"),
    ("tokenizer.json missing", "cannot load its tokenizer"),
    ("safetensors truncated", "model.safetensors: a damaged or truncated safetensors file"),
    ("safetensors header damaged", "model.safetensors: a damaged or truncated safetensors file"),
    ("model_max_length 4", "a model_max_length of 4 tokens (tokenizer_config.json)"),
    ("label2id with an id 'two'", "config.json's label2id must map labels to whole-number ids"),
])
def test_a_broken_checkpoint_is_one_message_naming_the_file(tiny_hf, tmp_path, breakage, message):
    from zsc.export import export_model

    source = _broken_copy(tiny_hf, tmp_path, breakage)
    with pytest.raises(ValueError) as error:
        export_model(str(source), tmp_path / "out", quantize="none", optimize="none", progress=False)
    assert message in str(error.value) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("breakage", ["tokenizer.json of random bytes", "safetensors truncated"])
def test_the_export_cli_says_it_in_one_line(tiny_hf, tmp_path, breakage):
    source = _broken_copy(tiny_hf, tmp_path, breakage)
    for task in ("nli", "embedding"):
        result = zsc("export", str(source), str(tmp_path / "out"), "--task", task, "--quantize", "none")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
        assert result.stderr.startswith("zsc: error: ") and str(source) in result.stderr


def test_validation_data_is_read_as_rows_are(tmp_path, tiny_hf):
    bad = tmp_path / "pairs.jsonl"
    bad.write_bytes(b'{"premise": "a", "hypothesis": "b"}\n' + b'{"premise": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    result = zsc("export", str(tiny_hf("bert")), str(tmp_path / "out"), "--validation-data", str(bad))
    assert result.returncode == 2 and f"{bad}:2: invalid JSON (nested too deeply)" in result.stderr, result.stderr[-2000:]
