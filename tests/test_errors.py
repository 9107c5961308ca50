"""Bad input gets a ValueError or FileNotFoundError naming the problem, never a crash in onnxruntime."""

from __future__ import annotations

import json
import shutil

import pytest

from zsc.engine import ZeroShotClassifier
from zsc.engine.model_dir import MANIFEST_NAME


@pytest.fixture(scope="module")
def classifier(tiny_exported):
    return ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"))


@pytest.mark.parametrize(
    "inputs, labels, match",
    [
        ("", ["a"], "at least one label and at least one sequence"),
        ([], ["a"], "at least one label and at least one sequence"),
        ("text", [], "at least one label and at least one sequence"),
        ("text", " , ,", "at least one label and at least one sequence"),
        (["ok", 3], ["a"], r"inputs\[1\] must be a string"),
        (["ok", ""], ["a"], r"inputs\[1\] is an empty string"),
        ("text", ["a", None], r"candidate_labels\[1\] must be a string"),
        ("text", 7, "candidate_labels must be a string or a list"),
        (7, ["a"], "inputs must be a string or a list"),
    ],
)
def test_bad_call_arguments(classifier, inputs, labels, match):
    with pytest.raises(ValueError, match=match):
        classifier(inputs, labels)


def test_template_without_placeholder(classifier):
    with pytest.raises(ValueError, match="hypothesis_template .* was not able to be formatted"):
        classifier("text", ["a", "b"], hypothesis_template="No placeholder here.")
    with pytest.raises(ValueError, match="could not be formatted"):
        classifier("text", ["a"], hypothesis_template="Two {} {}")


def test_multi_label_must_be_bool(classifier):
    with pytest.raises(ValueError, match="multi_label must be a boolean"):
        classifier("text", ["a"], multi_label="yes")


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="model directory not found"):
        ZeroShotClassifier.from_pretrained(tmp_path / "nope")


def test_directory_without_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no zsc.json and no .onnx"):
        ZeroShotClassifier.from_pretrained(tmp_path)


def copy_model(src, tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst


def test_corrupt_manifest(tiny_exported, tmp_path):
    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    (model / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="zsc.json is not valid JSON"):
        ZeroShotClassifier.from_pretrained(model)
    (model / MANIFEST_NAME).write_text(json.dumps({"entailment_id": 2}))
    with pytest.raises(ValueError, match="zsc.json is malformed"):
        ZeroShotClassifier.from_pretrained(model)


def test_altered_model_file_is_detected(tiny_exported, tmp_path):
    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    with open(model / "model.onnx", "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(ValueError, match="does not match the sha256"):
        ZeroShotClassifier.from_pretrained(model)


def test_missing_listed_file(tiny_exported, tmp_path):
    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    (model / "tokenizer.json").unlink()
    with pytest.raises(FileNotFoundError, match="missing tokenizer.json"):
        ZeroShotClassifier.from_pretrained(model)


def test_corrupt_onnx_without_hash_check(tiny_exported, tmp_path):
    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    (model / "model.onnx").write_bytes(b"this is not a protobuf")
    with pytest.raises(ValueError, match="onnxruntime cannot load"):
        ZeroShotClassifier.from_pretrained(model, verify=False)


def test_corrupt_tokenizer(tiny_exported, tmp_path):
    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    (model / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="cannot read tokenizer"):
        ZeroShotClassifier.from_pretrained(model, verify=False)


def test_graph_with_foreign_inputs(tmp_path, tiny_exported):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    node = helper.make_node("Identity", ["pixels"], ["logits"])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["b", 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model / "model.onnx")
    with pytest.raises(ValueError, match="takes inputs \\['pixels'\\]"):
        ZeroShotClassifier.from_pretrained(model, verify=False)
    assert np is not None


def test_graph_with_wrong_label_count(tmp_path, tiny_exported):
    import onnx
    from onnx import TensorProto, helper

    model = copy_model(tiny_exported("bert", "none"), tmp_path)
    cast = helper.make_node("Cast", ["input_ids"], ["f"], to=TensorProto.FLOAT)
    graph = helper.make_graph(
        [cast], "g", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", 5])],
        [helper.make_tensor_value_info("f", TensorProto.FLOAT, ["b", 5])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model / "model.onnx")
    with pytest.raises(ValueError, match="expected \\(batch, 3\\) logits"):
        ZeroShotClassifier.from_pretrained(model, verify=False)


def test_unknown_provider(tiny_exported):
    with pytest.raises(ValueError, match="provider must be"):
        ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"), provider="tpu")


def test_cuda_requested_but_unavailable(tiny_exported):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="provider 'cuda' was asked for"):
        ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"), provider="cuda")


def test_auto_provider_falls_back_to_cpu(tiny_exported, caplog):
    import logging

    import onnxruntime

    with caplog.at_level(logging.INFO, logger="zsc"):
        classifier = ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"), provider="auto")
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert classifier.compute_type == "cpu"
        assert "using CPU" in caplog.text
