"""The int8 graph's twin for CPUs with 8-bit dot products (VNNI, arm64): chosen only there, the
same scores as the portable graph, never loadable without zsc, refused when damaged."""

from __future__ import annotations

import gc
import json
import shutil

import numpy as np
import onnxruntime
import pytest

from zsc.engine import ZeroShotClassifier
from zsc.engine.cpu import has_int8_dot_products
from zsc.engine.graph_choice import choose_graph
from zsc.engine.int8_twin import Int8Twin
from zsc.engine.manifest import GraphVariant
from zsc.engine.model_files import MANIFEST_NAME, write_manifest

CPU = ["CPUExecutionProvider"]
GPU_HOST = ["CUDAExecutionProvider", "CPUExecutionProvider"]
VIEW = Int8Twin("model_int8_dot.onnx", "weights.bin", (("w_q", 0, (4, 4)),))
INT8_WITH_TWIN = GraphVariant("int8", "model.onnx", twin=VIEW)
FP16_W8 = GraphVariant("fp16", "model_fp16.onnx", "int8")
PREMISES = ["The striker scored twice in the final.", "Rates rose again.", "A long text about markets. " * 20]
HYPOTHESES = ["This example is sports.", "This example is finance.", "This example is cooking."]
needs_dot_products = pytest.mark.skipif(not has_int8_dot_products(), reason="this CPU has no 8-bit dot products: it never runs the twin")


@pytest.mark.parametrize("graphs, provider, precision, available, dot_products, file", [
    ([INT8_WITH_TWIN, FP16_W8], "auto", "auto", CPU, True, "model_int8_dot.onnx"),
    ([INT8_WITH_TWIN, FP16_W8], "cpu", "int8", GPU_HOST, True, "model_int8_dot.onnx"),
    ([INT8_WITH_TWIN, FP16_W8], "auto", "auto", CPU, False, "model.onnx"),  # AVX2 alone: the portable graph
    ([INT8_WITH_TWIN, FP16_W8], "auto", "auto", GPU_HOST, True, "model_fp16.onnx"),  # CUDA: fp16, never the twin
    ([INT8_WITH_TWIN, FP16_W8], "cpu", "fp16", CPU, True, "model_fp16.onnx"),
])
def test_the_twin_runs_only_for_int8_on_a_cpu_with_dot_products(graphs, provider, precision, available, dot_products, file):
    choice = choose_graph(graphs, provider, precision, available, dot_products)
    assert choice.file == file and choice.through_twin is (file == VIEW.file)
    assert ("twin" in choice.reason) is choice.through_twin


@pytest.fixture(scope="module")
def exported(tiny_hf, tmp_path_factory):
    """A tiny BERT exported with the portable (avx2) preset, which writes the twin."""
    from zsc.export import export_model

    out = tmp_path_factory.mktemp("twin") / "model"
    export_model(str(tiny_hf("bert")), out, quantize="int8", optimize="O2", preset="avx2", progress=False)
    return out


def portable_copy(directory, destination):
    """The same directory without its twin entry: what an AVX2-only CPU (or an older zsc) runs."""
    shutil.copytree(directory, destination)
    data = json.loads((destination / MANIFEST_NAME).read_text())
    data["int8_view"] = {}
    write_manifest(destination / MANIFEST_NAME, data)
    return destination


def test_the_export_writes_a_small_twin_and_records_it(exported):
    manifest = json.loads((exported / MANIFEST_NAME).read_text())
    view = manifest["int8_view"]
    assert view["of"] == "model.onnx" and view["file"] == "model_int8_dot.onnx" and view["weights"] == "weights.bin"
    assert len(view["tensors"]) >= 6 and all(name.endswith(("_zsc_q", "_zsc_zero")) for name in view["tensors"])
    twin = exported / view["file"]
    assert twin.stat().st_size < (exported / "weights.bin").stat().st_size  # the structure, not a copy of the weights
    record = manifest["parity"]["int8"]["dot_product_twin"]
    assert record["checked"] is has_int8_dot_products()
    if record["checked"]:
        assert record["max_abs_diff_vs_int8"] == 0.0


def test_the_twin_cannot_be_loaded_without_zsc(exported):
    """Its flipped tensors point at a file that does not exist: a plain load fails instead of
    reading uint8 weight bytes as int8."""
    with pytest.raises(Exception, match="weights.sign-flipped.bin"):
        onnxruntime.InferenceSession(str(exported / "model_int8_dot.onnx"), providers=CPU)


@needs_dot_products
def test_the_twin_gives_the_portable_graphs_scores_exactly(exported, tmp_path):
    twin = ZeroShotClassifier.from_pretrained(exported, provider="cpu")
    portable = ZeroShotClassifier.from_pretrained(portable_copy(exported, tmp_path / "portable"), provider="cpu")
    assert "model_int8_dot.onnx" in twin.session.reason and "twin" not in portable.session.reason
    gc.collect()  # the flipped weights handed to onnxruntime at load are gone: it must hold its own copy
    _ = [np.ones(1 << 16) for _ in range(64)]
    np.testing.assert_array_equal(twin.nli_logits(PREMISES, HYPOTHESES), portable.nli_logits(PREMISES, HYPOTHESES))
    labels = ["sports", "finance", "cooking"]
    assert twin(PREMISES, labels) == portable(PREMISES, labels)


def test_the_default_preset_is_portable_and_brings_the_twin(tiny_hf, tmp_path):
    """--preset auto: the architecture's portable preset, whatever this CPU's extensions (on x86,
    avx2 with its twin), so a directory exported on a VNNI machine runs correctly on any x86 CPU."""
    from zsc.engine.cpu import is_arm64
    from zsc.export import export_model

    manifest = export_model(str(tiny_hf("bert")), tmp_path / "m", quantize="int8", optimize="O2", progress=False)
    assert manifest.quantization_preset == ("arm64" if is_arm64() else "avx2")
    assert bool(manifest.int8_view) is not is_arm64()


def test_a_vnni_preset_export_has_no_twin(tiny_hf, tmp_path):
    """int8 weights already: nothing to flip, no twin, no entry."""
    from zsc.export import export_model

    manifest = export_model(str(tiny_hf("bert")), tmp_path / "m", quantize="int8", optimize="O2", preset="avx512_vnni", progress=False)
    assert manifest.int8_view == {} and not (tmp_path / "m" / "model_int8_dot.onnx").exists()


@pytest.mark.parametrize("entry, match", [
    ({"of": "model.onnx", "file": "model_int8_dot.onnx", "weights": "weights.bin"}, "needs file, weights and tensors"),
    ({"of": "model.onnx", "file": "model_int8_dot.onnx", "weights": "weights.bin", "tensors": {"w": [-1, [2]]}}, "negative"),
    ({"of": "model_fp16.onnx", "file": "model_int8_dot.onnx", "weights": "weights.bin", "tensors": {"w": [0, [2]]}},
     "not this directory's int8 graph"),
])
def test_a_malformed_twin_entry_is_refused_at_load(exported, tmp_path, entry, match):
    damaged = portable_copy(exported, tmp_path / "damaged")
    data = json.loads((damaged / MANIFEST_NAME).read_text())
    data["int8_view"] = entry
    write_manifest(damaged / MANIFEST_NAME, data)
    with pytest.raises(ValueError, match=match):
        ZeroShotClassifier.from_pretrained(damaged, provider="cpu")


@needs_dot_products
def test_twin_tensors_past_the_end_of_the_weights_are_refused(exported, tmp_path):
    damaged = portable_copy(exported, tmp_path / "short")
    data = json.loads((exported / MANIFEST_NAME).read_text())
    name = next(iter(data["int8_view"]["tensors"]))
    data["int8_view"]["tensors"][name][0] = (exported / "weights.bin").stat().st_size
    write_manifest(damaged / MANIFEST_NAME, data)
    with pytest.raises(ValueError, match="past the end of"):
        ZeroShotClassifier.from_pretrained(damaged, provider="cpu", verify=False)
