"""Per-row int8 with 7 bits on one side: the ranges that keep AVX2's u8 x s8 kernel from saturating."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from zsc.engine import ZeroShotClassifier
from zsc.engine.model_dir import load_model_directory
from zsc.export.directory import finalise_manifest
from zsc.export.per_row import EIGHT_BIT, Grid, quantize_per_row

TEXTS = ["the match went to extra time", "shares fell after the report", "a new phone was launched"]
LABELS = ["sports", "business", "technology"]


def initializers(path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def scores(model_dir) -> np.ndarray:
    classifier = ZeroShotClassifier.from_pretrained(model_dir, provider="cpu")
    ranked = classifier(TEXTS, LABELS)
    return np.array([[dict((r["label"], r["score"]) for r in row)[label] for label in LABELS] for row in ranked])


@pytest.fixture(scope="module")
def fp32_dir(tiny_exported):
    return tiny_exported("bert", "none")


@pytest.mark.parametrize("grid, weight_peak, symmetric_zero, asymmetric_levels", [
    (EIGHT_BIT, 127, 128, 255), (Grid(weight_bits=7), 63, 128, 255), (Grid(activation_bits=7), 127, 64, 127)])
def test_each_grid_writes_its_ranges(fp32_dir, tmp_path, grid, weight_peak, symmetric_zero, asymmetric_levels):
    out = tmp_path / "model.onnx"
    counts = quantize_per_row(fp32_dir / "model.onnx", out, "int8", grid=grid)
    assert counts["matmul"] > 0
    values = initializers(out)
    weights = [v for name, v in values.items() if name.endswith("_zsc_q") and v.ndim == 2 and "embeddings" not in name]
    assert len(weights) == counts["matmul"]
    # Every column reaches the peak (its largest weight) and none passes it.
    assert all(np.abs(w.astype(np.int16)).max(axis=0).tolist() == [weight_peak] * w.shape[1] for w in weights)
    assert int(values["zsc_pr_const_act_zero"]) == symmetric_zero
    if "zsc_pr_const_inv_u8_levels" in values:  # the graph has one-sided (GELU) inputs
        assert float(values["zsc_pr_const_inv_u8_levels"]) == pytest.approx(1 / asymmetric_levels)


def test_seven_bit_grids_stay_close_to_fp32(fp32_dir, tmp_path):
    reference = scores(fp32_dir)
    for grid in (Grid(weight_bits=7), Grid(activation_bits=7)):
        model_dir = tmp_path / f"w{grid.weight_bits}a{grid.activation_bits}"
        shutil.copytree(fp32_dir, model_dir)
        quantize_per_row(fp32_dir / "model.onnx", model_dir / "model.onnx", "int8", grid=grid)
        manifest = load_model_directory(fp32_dir, verify=False).manifest
        finalise_manifest(model_dir, replace(manifest, precision="int8"), manifest.parity)
        quantised = scores(model_dir)
        assert 0 < np.abs(quantised - reference).max() < 0.1


@pytest.mark.parametrize("bits", [{"weight_bits": 6}, {"activation_bits": 9}])
def test_other_widths_are_refused(bits):
    with pytest.raises(ValueError, match="7 or 8 bits"):
        Grid(**bits)
