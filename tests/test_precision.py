"""Precision per provider: which graph of a model directory runs where, on a faked provider list.

The rules are pure (precision.choose_graph); the integration tests fake onnxruntime's provider
list on this CPU-only machine, where a CUDA session comes up without CUDA: that is the path of a
GPU host whose CUDA libraries are missing, and "auto" must fall back to the CPU graph.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest

from zsc.engine import ZeroShotClassifier
from zsc.engine.cpu import has_int8_dot_products
from zsc.engine.graph_choice import choose_graph
from zsc.engine.manifest import GraphVariant
from zsc.engine.model_files import MANIFEST_NAME

CPU = ["CPUExecutionProvider"]
GPU_HOST = ["CUDAExecutionProvider", "CPUExecutionProvider"]
INT8 = GraphVariant("int8", "model.onnx")
FP16_W8 = GraphVariant("fp16", "model_fp16.onnx", "int8")
FP32 = GraphVariant("fp32", "model_fp32.onnx")
DYNAMIC = GraphVariant("int8-dynamic", "model.onnx")
LABELS = ["sports", "politics", "cooking"]


@pytest.mark.parametrize("graphs, provider, precision, available, expected", [
    # auto: fp16 on CUDA, the 8-bit graph on the CPU
    ([INT8, FP16_W8], "auto", "auto", GPU_HOST, ("fp16", "cuda")),
    ([INT8, FP16_W8], "auto", "auto", CPU, ("int8", "cpu")),
    ([FP16_W8, INT8], "auto", "auto", CPU, ("int8", "cpu")),  # the main graph is not what decides
    ([INT8, FP32], "auto", "auto", GPU_HOST, ("fp32", "cuda")),
    # graphs known to be slow (dynamic int8) or broken (per-row int8) on CUDA are never auto-picked there
    ([INT8], "auto", "auto", GPU_HOST, ("int8", "cpu")),
    ([DYNAMIC], "auto", "auto", GPU_HOST, ("int8-dynamic", "cpu")),
    # a precision asked for by name, with provider auto: the provider that suits it
    ([INT8, FP16_W8], "auto", "int8", GPU_HOST, ("int8", "cpu")),
    ([INT8, FP16_W8], "auto", "fp16", GPU_HOST, ("fp16", "cuda")),
    ([INT8, FP16_W8], "auto", "fp16", CPU, ("fp16", "cpu")),
    # a provider asked for by name
    ([INT8, FP16_W8], "cpu", "auto", GPU_HOST, ("int8", "cpu")),
    ([INT8, FP16_W8], "cuda", "auto", GPU_HOST, ("fp16", "cuda")),
    ([INT8, FP16_W8], "cpu", "fp16", CPU, ("fp16", "cpu")),
    ([DYNAMIC], "cuda", "auto", GPU_HOST, ("int8-dynamic", "cuda")),  # runs, slowly: warned
])
def test_choice_rules(graphs, provider, precision, available, expected):
    choice = choose_graph(graphs, provider, precision, available)
    assert (choice.graph.precision, choice.compute) == expected
    assert choice.reason
    assert choice.providers[0] == ("CUDAExecutionProvider" if expected[1] == "cuda" else "CPUExecutionProvider")


@pytest.mark.parametrize("graphs, provider, precision, available, slow", [
    ([FP16_W8], "auto", "auto", CPU, True),  # only fp16 and no CUDA: runs on the CPU through casts
    ([INT8, FP16_W8], "auto", "fp16", CPU, True),
    ([INT8, FP16_W8], "cpu", "fp16", GPU_HOST, True),
    ([INT8, FP16_W8], "cuda", "fp16", GPU_HOST, False),
    ([DYNAMIC], "cuda", "auto", GPU_HOST, True),
    ([INT8, FP16_W8], "auto", "auto", GPU_HOST, False),
    ([INT8], "auto", "auto", CPU, False),
])
def test_slow_choices_are_flagged(graphs, provider, precision, available, slow):
    assert choose_graph(graphs, provider, precision, available).slow is slow


@pytest.mark.parametrize("graphs, provider, precision, available, match", [
    ([INT8], "cuda", "auto", GPU_HOST, "runs on the CPU only.*--quantize int8,fp16"),
    ([INT8, FP16_W8], "cuda", "int8", GPU_HOST, "runs on the CPU only"),
    ([INT8, FP16_W8], "cuda", "auto", CPU, "provider 'cuda' was asked for but onnxruntime offers only"),
    ([INT8], "auto", "fp16", GPU_HOST, "has no fp16 graph; it has int8 \\(model.onnx\\)"),
    ([INT8], "auto", "bf16", CPU, "precision must be one of"),
    ([INT8], "gpu", "auto", CPU, "provider must be one of"),
])
def test_impossible_choices_name_the_problem(graphs, provider, precision, available, match):
    with pytest.raises(ValueError, match=match):
        choose_graph(graphs, provider, precision, available)


@pytest.fixture(scope="module")
def two_graphs(tiny_exported):
    """A tiny BERT exported with an int8 graph and an fp16 graph over the same 8-bit weights."""
    return tiny_exported("bert", "int8,fp16-w8")


def test_export_writes_both_graphs_sharing_the_weights(two_graphs, tiny_exported):
    import onnx

    manifest = json.loads((two_graphs / MANIFEST_NAME).read_text())
    assert manifest["precision"] == "int8" and manifest["model_file"] == "model.onnx"
    assert manifest["variants"] == [{"precision": "fp16", "file": "model_fp16.onnx", "weights": "int8"}]
    assert {"model.onnx", "model_fp16.onnx", "weights.bin"} <= set(manifest["files"])
    assert set(manifest["parity"]) == {"fp32", "int8", "fp16"}
    assert manifest["parity"]["fp16"]["top1_agreement"] >= 0.9
    # Every 8-bit weight of the fp16 graph points into the int8 graph's weights file.
    initializers = onnx.load(str(two_graphs / "model_fp16.onnx"), load_external_data=False).graph.initializer
    eight_bit = [t for t in initializers if t.data_type in (onnx.TensorProto.UINT8, onnx.TensorProto.INT8) and np.prod(t.dims) >= 1024]
    assert eight_bit and all(t.data_location == onnx.TensorProto.EXTERNAL for t in eight_bit)
    assert {e.value for t in eight_bit for e in t.external_data if e.key == "location"} == {"weights.bin"}


def test_precision_argument_picks_the_graph(two_graphs, tiny_exported):
    fp32 = ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"))
    chosen = {p: ZeroShotClassifier.from_pretrained(two_graphs, provider="cpu", precision=p) for p in ("auto", "int8", "fp16")}
    assert [(c.precision, c.compute_type) for c in chosen.values()] == [("int8", "cpu"), ("int8", "cpu"), ("fp16", "cpu")]
    texts = ["The match ended in a draw.", "Parliament voted on the budget tonight after a long debate."]
    reference = np.array([[p["score"] for p in sorted(r, key=lambda p: p["label"])] for r in fp32(texts, LABELS)])
    for classifier in chosen.values():
        scores = np.array([[p["score"] for p in sorted(r, key=lambda p: p["label"])] for r in classifier(texts, LABELS)])
        assert np.abs(scores - reference).max() < 0.05  # 8-bit weights; the fp16 graph also rounds activations


def test_gpu_host_without_cuda_libraries_falls_back_to_the_cpu_graph(two_graphs, monkeypatch, caplog):
    """onnxruntime lists CUDA, but the session comes up without it: auto chooses again for the CPU."""
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: GPU_HOST)
    with caplog.at_level("INFO", logger="zsc"):
        classifier = ZeroShotClassifier.from_pretrained(two_graphs)
    if "CUDAExecutionProvider" in classifier.session.inference.get_providers():
        pytest.skip("CUDA really works here")
    assert (classifier.precision, classifier.compute_type) == ("int8", "cpu")
    assert "CUDA execution provider failed to initialise" in caplog.text
    assert f"zsc runs {'model_int8_dot.onnx' if has_int8_dot_products() else 'model.onnx'} on cpu" in caplog.text
    with pytest.raises(ValueError, match="failed to initialise.*use provider='cpu'"):
        ZeroShotClassifier.from_pretrained(two_graphs, provider="cuda")


def test_cli_precision_flag(two_graphs):
    def classify(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", "The match ended in a draw.", "--labels",
                               ",".join(LABELS), "--model", str(two_graphs), "--json", *flags],
                              capture_output=True, text=True, timeout=120)

    done = classify("--precision", "fp16", "--provider", "cpu")
    assert done.returncode == 0, done.stderr
    assert {p["label"] for p in json.loads(done.stdout)} == set(LABELS)
    refused = classify("--precision", "fp32")
    assert refused.returncode != 0
    assert "has no fp32 graph" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize("variants, match", [
    ([{"precision": "int8", "file": "other.onnx"}], "two graphs share a precision"),
    ([{"precision": "fp16", "file": "model.onnx"}], "two graphs share a file"),
    ([{"precision": "bf16", "file": "x.onnx"}], "precision 'bf16' of x.onnx is not one of"),
    ([{"file": "x.onnx"}], "each of variants needs a precision and a file"),
    ([{"precision": "fp16", "file": "missing.onnx"}], "missing missing.onnx"),
])
def test_bad_variant_lists_fail_at_load(two_graphs, tmp_path, variants, match):
    import shutil

    from zsc.engine.model_files import write_manifest

    model = tmp_path / "model"
    shutil.copytree(two_graphs, model)
    data = json.loads((model / MANIFEST_NAME).read_text())
    write_manifest(model / MANIFEST_NAME, data | {"variants": variants})
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        ZeroShotClassifier.from_pretrained(model, verify=False)


@pytest.mark.parametrize("quantize, match", [
    ("int8,int4", "quantize must be one of"),
    ("fp16,fp16-w8", "two graphs of one precision"),
    ("fp16-w8", "pass it with int8"),
    ("int8-dynamic,fp16-w8", "pass it with int8"),
])
def test_export_refuses_bad_precision_lists(tiny_hf, tmp_path, quantize, match):
    from zsc.export import export_model

    with pytest.raises(ValueError, match=match):
        export_model(str(tiny_hf("bert")), tmp_path / "x", quantize=quantize, progress=False)
    assert not (tmp_path / "x").exists()


def test_a_file_job_resumes_only_on_the_same_graph(two_graphs, tmp_path):
    """Both graphs share the model's files: the resume record names the graph that ran too."""
    from zsc.engine import CallOptions
    from zsc.engine.jobs.classify_file import FileJob, _job_description
    from zsc.engine.jobs.files import InputFileError
    from zsc.engine.jobs.progress import JobRecord, check_same_job

    source = tmp_path / "in.txt"
    source.write_text("one text\n")
    job = FileJob.of(LABELS, CallOptions())
    int8, fp16 = (ZeroShotClassifier.from_pretrained(two_graphs, provider="cpu", precision=p) for p in ("int8", "fp16"))
    recorded = JobRecord(_job_description(int8, "digest", job))
    check_same_job(recorded, _job_description(int8, "digest", job), tmp_path / "r")
    with pytest.raises(InputFileError, match="precision was 'int8', now 'fp16'"):
        check_same_job(recorded, _job_description(fp16, "digest", job), tmp_path / "r")


def test_fp16_graph_over_8_bit_weights_folds_them_at_load(tmp_path):
    """No DequantizeLinear survives onnxruntime's optimisation of the embedded fp16 graph: the
    weights become fp16 constants once, at load, not on every run."""
    import onnx

    from zsc.engine.loading import default_model_path
    from zsc.engine.session import session_options

    directory = default_model_path()
    fp16 = next(g for g in ZeroShotClassifier.default(provider="cpu").model_dir.manifest.graphs() if g.precision == "fp16")
    source = onnx.load(str(directory / fp16.file), load_external_data=False)
    assert sum(n.op_type == "DequantizeLinear" for n in source.graph.node) > 0  # the rebuilding nodes are there
    options = session_options(choose_graph([fp16], "cpu", "fp16", CPU), 1)
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    onnxruntime.InferenceSession(str(directory / fp16.file), options, providers=CPU)
    optimised = onnx.load(str(tmp_path / "optimised.onnx"), load_external_data=False)
    assert not [n for n in optimised.graph.node if n.op_type == "DequantizeLinear"]
