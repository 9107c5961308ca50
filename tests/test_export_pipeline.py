"""One export pipeline for NLI models and embedders, and precisions as data (zsc.export.recipes):
both tasks take the same steps and fallback rule and finalise the manifest once, and a new
precision is one recipe plus its builder."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("optimum.exporters.onnx")

from zsc.engine import TextEmbedder, ZeroShotClassifier
from zsc.engine.graph_choice import PRECISION_CHOICES
from zsc.engine.manifest import PRECISIONS
from zsc.export import directory, int8_twin, pipeline
from zsc.export.api import export_model
from zsc.export.embedder import export_embedder
from zsc.export.errors import ConversionError, OptionError
from zsc.export.recipes import RECIPES, GraphBuild, Recipe, parse_quantize


def export(task: str, source: str, out, **options):
    if task == "nli":
        return export_model(source, out, progress=False, **options)
    return export_embedder(source, out, progress=False, **options)


def test_every_recipe_writes_a_precision_the_engine_can_pick():
    for recipe in RECIPES.values():
        assert recipe.precision in PRECISIONS and recipe.precision in PRECISION_CHOICES, recipe.choice
        assert recipe.shares_weights_of is None or recipe.shares_weights_of in RECIPES


def test_the_command_line_lists_every_recipe_with_its_help():
    shown = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "export", "--help"], capture_output=True, text=True,
                           timeout=120, check=True).stdout
    flat = " ".join(shown.split())
    for name, recipe in RECIPES.items():
        assert f"{name}: {recipe.help}" in flat


@pytest.mark.parametrize("value, task, message", [
    ("int8-dynamic", "embedding", "an embedder exports with quantize in ('int8', 'fp16-w8', 'none')"),
    ("fp16", "embedding", "an embedder exports with quantize in"),
    ("fp16-w8", "nli", "pass it with int8"),
    ("int8,int8", "nli", "two graphs of one precision"),
    ("int4", "nli", "quantize must be one of"),
])
def test_recipes_are_checked_per_task(value, task, message):
    with pytest.raises(OptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_quantize(value, task)


@pytest.mark.parametrize("task", ["nli", "embedding"])
def test_both_tasks_keep_the_plain_graph_when_optimisation_fails(task, tiny_hf, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ConversionError("graph optimisation O2 failed (a stand-in)")

    monkeypatch.setattr(pipeline, "optimize_graph", broken)
    manifest = export(task, str(tiny_hf("bert")), tmp_path / "out", quantize="none", optimize="O2")
    assert manifest.optimization is None and manifest.transformations["optimize"]["applied"] is False
    assert "the O2 optimiser failed: ConversionError" in manifest.transformations["optimize"]["reason"]
    assert manifest.task == task


@pytest.mark.parametrize("task", ["nli", "embedding"])
def test_both_tasks_hash_the_directory_once(task, tiny_hf, tmp_path, monkeypatch):
    calls = []
    real = directory.finalise_manifest
    for module in (directory, int8_twin):  # wherever a step could call it from
        monkeypatch.setattr(module, "finalise_manifest", lambda *args: calls.append(args) or real(*args))
    manifest = export(task, str(tiny_hf("bert")), tmp_path / "out", quantize="int8", optimize="none", preset="avx2")
    assert len(calls) == 1
    key = "batch_invariance_max_abs_logit_diff" if task == "nli" else "batch_invariance_max_abs_diff"
    assert manifest.parity["int8"][key] == 0.0 and set(manifest.files) >= {"model.onnx", "weights.bin", "tokenizer.json"}


def test_a_new_precision_is_one_recipe_plus_its_builder(tiny_hf, tmp_path, monkeypatch):
    """The README's worked example: an fp16 graph (onnxruntime's converter, as the fp16 recipe),
    registered by name; the pipeline writes, measures and lists it, and the runtime picks it by
    its precision."""
    def fp16_graph(build: GraphBuild) -> None:
        from zsc.export.quantize import convert_fp16

        convert_fp16(build.source, build.out)

    monkeypatch.setitem(RECIPES, "fp16-example", Recipe("fp16-example", "fp16", fp16_graph, "an example fp16 graph"))
    manifest = export_model(str(tiny_hf("bert")), tmp_path / "out", quantize="int8,fp16-example", optimize="none", progress=False)
    assert [g.precision for g in manifest.graphs()] == ["int8", "fp16"]
    assert manifest.parity["fp16"]["top1_agreement"] >= 0.9 and "batch_invariance_max_abs_logit_diff" in manifest.parity["fp16"]
    result = ZeroShotClassifier.from_pretrained(tmp_path / "out", precision="fp16")("a text", ["a", "b"])
    assert abs(sum(p["score"] for p in result) - 1) < 1e-5


def test_an_embedder_graph_runs_without_a_directory(tiny_hf, tmp_path):
    """TextEmbedder.from_graph: what the pipeline measures before any manifest is written."""
    manifest = export_embedder(str(tiny_hf("bert")), tmp_path / "out", quantize="none", optimize="none", progress=False)
    loaded = TextEmbedder.from_pretrained(tmp_path / "out").embed(["one text", "two"])
    direct = TextEmbedder.from_graph(tmp_path / "out" / "model.onnx", tmp_path / "out" / "tokenizer.json", manifest).embed(["one text", "two"])
    assert (loaded == direct).all()
