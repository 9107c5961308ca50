"""The benchmark scripts run end to end at tiny sizes (they measure nothing here; no timing asserted).

Each runs a whole script in a subprocess, so the module is marked slow: `make test` (and CI) runs
it, `make test-fast` leaves it out."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest
from conftest import REPO
from ranking import assert_same_ranking

from zsc.engine.cpu import cpu_flags, has_int8_dot_products
from zsc.engine.defaults import PROVIDER_FEEDING

pytestmark = pytest.mark.slow


def run_script(name: str, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / name), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)


def quick_result(name: str, kind: str, out) -> tuple:
    """Run benchmark ``name`` with --quick; its one ``*-<kind>-quick.json`` result: (path, data)."""
    ran = run_script(name, out)
    assert ran.returncode == 0, ran.stderr[-3000:]
    (result,) = out.glob(f"*-{kind}-quick.json")
    return result, json.loads(result.read_text())


def test_accuracy_then_speed_benchmark_smoke(tmp_path):
    accuracy_json, data = quick_result("accuracy.py", "accuracy", tmp_path)
    assert data["cpu_flags"] and "CPU flags" in accuracy_json.with_suffix(".md").read_text()
    assert {"nli/mnli_dev_mismatched", "zsc/ag_news", "zsc/goemotions_ekman"} <= set(data["tasks"])
    assert data["agreement_with_torch"]["zsc fp32"]["max_abs_score_diff"] < 1e-4

    speed = run_script("run.py", tmp_path)
    assert speed.returncode == 0, speed.stderr[-3000:]
    (result,) = [p for p in tmp_path.glob("*-quick.json") if "accuracy" not in p.name]
    data = json.loads(result.read_text())
    vnni = has_int8_dot_products()  # then the default runs its twin, and its portable graph runs too
    for section in ("throughput_ag_news_4_labels", "throughput_50_labels", "long_input_5_labels"):
        assert len(data[section]) == 6 + vnni and all(v["pairs_per_s"]["median"] > 0 for v in data[section].values())
        assert ("zsc int8, portable graph (what AVX2 alone runs)" in data[section]) == vnni
    cold = data["cold_start"]
    assert {"zsc int8 (default)", "zsc int8-dynamic", "zsc fp32", "transformers torch"} == set(cold)  # per precision
    assert cold["zsc int8 (default)"]["peak_rss_mb"] < cold["transformers torch"]["peak_rss_mb"]
    assert result.with_suffix(".png").stat().st_size > 10_000
    assert "Throughput" in result.with_suffix(".md").read_text()


def test_batch_budget_smoke(tmp_path):
    result, data = quick_result("batch_budget.py", "batch-budget", tmp_path)
    cpu = PROVIDER_FEEDING["cpu"]
    assert data["default_budget"] == [cpu.batch_size, cpu.max_batch_tokens]
    measured = data["models"]["the embedded default"]
    assert measured["effective_budgets"]["16 rows, 2048 tokens"] == [16, 2048]  # the budget each classifier ran
    rates = measured["pairs_per_s"]
    assert len(rates) == 5 and all(len(r) == 2 and min(r.values()) > 0 for r in rates.values())
    assert "(default)" in result.with_suffix(".md").read_text()


def test_layer_norm_fusion_smoke(tmp_path):
    result, data = quick_result("layer_norm_fusion.py", "layer-norm", tmp_path)
    assert data["cpu_flags"] and "CPU flags" in result.with_suffix(".md").read_text()
    (measured,) = data["results"].values()
    assert len(measured) == 3 and all(m["us"] > 0 for m in measured.values())
    assert max(m["max_abs_diff"] for m in measured.values()) < 1e-4  # the same arithmetic, summed in another order
    (model,) = data["models"].values()
    assert set(model) == {"as zsc loads it", "onnxruntime's fusion at load"}
    assert all(m["pairs_per_s"] > 0 and m["one_text_p50_ms"] > 0 for m in model.values())
    # the embedded default: onnxruntime's own load fuses its norms, zsc's session runs none
    assert model["as zsc loads it"]["skip_layer_norms_run"] == 0 < model["onnxruntime's fusion at load"]["skip_layer_norms_run"]


def test_export_variants_and_server_load_smoke(tmp_path):
    _, data = quick_result("export_variants.py", "export", tmp_path)
    rows = data["variants"]
    assert rows["int8 (O2 + per-row int8)"]["model_mb"] < rows["fp32"]["model_mb"] / 3
    assert rows["int8-dynamic (O2 + dynamic int8)"]["model_mb"] < rows["fp32"]["model_mb"] / 3
    assert len(rows) == 3 and all(r["ag_news_pairs_per_s"] > 0 for r in rows.values())  # --quick: 3 of the 6

    _, data = quick_result("server_load.py", "server", tmp_path)
    for mode in ("batching on", "batching off"):
        assert all(data[mode][c]["errors"] == 0 and data[mode][c]["requests"] == 8 for c in ("1", "8", "32"))


def test_soak_smoke(tmp_path):
    _, data = quick_result("soak.py", "soak", tmp_path)
    phases = data["phases"]
    mixed, small_queue, hostile = phases.values()
    assert mixed["bad_5xx"] == 0 and mixed["statuses"]["200"] == 40 and mixed["requests"] == 60
    assert all(code in ("400", "413") for kind, counts in mixed["by_kind"].items() if kind not in ("valid", "probe") for code in map(str, counts))
    assert mixed["probes_under_load"] > 0 and mixed["probe_max_abs_score_diff"] == 0  # batch-invariant under load
    assert small_queue["bad_5xx"] == 0 and set(small_queue["statuses"]) <= {"200", "503"}
    # Windows past the caps are 400s naming the count; embedding and padded cache keys are served or 503.
    kinds = hostile["by_kind"]
    assert hostile["bad_5xx"] == 0 and set(kinds["windows past the caps"]) == set(kinds["tiny windows"]) == {"400"}
    assert set(kinds["padded cache key"]) <= {"200", "503"} and "200" in kinds["padded cache key"]
    assert set(kinds["embedding, 64 texts"]) <= {"200", "503"}
    # Phase 4: a light probe is answered, every time, while valid heavy clients saturate the server.
    fairness = data["fairness"]
    assert len(fairness) == 2 and all(r["probes"] > 0 and set(r["probe_statuses"]) == {"200"} for r in fairness.values())


def test_scale_smoke(tmp_path):
    _, data = quick_result("scale.py", "scale", tmp_path)
    contenders = data["contenders"]
    assert set(contenders) == {"in-process (2 threads)", "Ray, 2 actors x 1 thread", "Spark, local[2] x 1 thread"}
    assert all(c["same_labels"] and c["max_abs_score_diff"] == 0 and c["rows_per_s"] > 0 and c["startup_s"] > 0 for c in contenders.values())


def test_hybrid_and_long_text_smoke(tmp_path):
    _, data = quick_result("hybrid.py", "hybrid", tmp_path)
    assert set(data["hybrid"]["held_out"]) == {"ag_news", "dair_emotion", "sst2", "trec", "banking77"}
    assert all(0 <= v <= 1 for r in data["hybrid"]["held_out"].values() for k, v in r.items() if k != "rows_held_out")
    many = data["many_labels"]["banking77 (77 labels)"]
    assert {"exact NLI", "embedding only", "hybrid, all labels", "prefilter K=5, nli on the K", "prefilter K=50, hybrid on the K"} <= set(many)
    assert many["prefilter K=5, hybrid on the K"]["nli_pairs_per_text"] == 5 and many["exact NLI"]["nli_pairs_per_text"] == 77

    _, data = quick_result("long_text.py", "long", tmp_path)
    workloads = data["workloads"]
    built = next(v for k, v in workloads.items() if k.startswith("needle in film"))
    default_max = "max, hybrid, 32 (default for max)"
    assert built[default_max]["nli_pairs_per_text"] > built["max, nli, 128 (the old default)"]["nli_pairs_per_text"] > 4
    assert built["truncate"]["nli_pairs_per_text"] == 4 and built["max, embedding, 32"]["nli_pairs_per_text"] == 0
    kinds = [k for k in workloads if k.startswith("needle")]
    assert len(kinds) == 9 and all(set(workloads[k][default_max]["found_per_topic"]) for k in kinds)
    previous = "max, hybrid, 32, raw cosine (the previous rule)"  # recomputed from the same pairs
    assert all(workloads[k][previous]["nli_pairs_per_text"] == workloads[k][default_max]["nli_pairs_per_text"] for k in kinds)
    assert all(0 <= row["accuracy"] <= 1 for rows in workloads.values() for row in rows.values())


def test_int8_sensitivity_smoke(tmp_path):
    _, data = quick_result("int8_sensitivity.py", "int8", tmp_path)
    variants = data["variants"]
    assert len(variants) == 9 and data["cpu_flags"] and data["kernels"] == "native"  # --quick leaves out the two MatMulNBits builds
    reference = variants.pop("fp32 (O2, first-token pruned)")
    assert reference["mean_abs_score_diff"] == 0 and reference["speed_vs_fp32"] == 1
    # Every variant really perturbs the fp32 graph (a copy that changed nothing would show 0).
    assert all(v["mean_abs_score_diff"] > 0 and 0 <= v["top1_agreement"] <= 1 for v in variants.values())
    assert all(len(v["accuracy"]) == 6 and v["pairs_per_s"] > 0 for v in variants.values())
    # Every variant but the one-text-per-call view of int8-dynamic is timed on long inputs and alone.
    timed_alone = [v for name, v in variants.items() if name != "int8-dynamic, one text per call"]
    assert all(v["long_input_speed_vs_fp32"] > 0 and v["one_text_p50_ms"] > 0 for v in timed_alone) and len(timed_alone) == 7
    # Per-row int8 is batch-invariant by construction; dynamic int8 is not (6 texts show it).
    assert variants["int8 per-row + SmoothQuant (default)"]["batch_invariance_max_abs_diff"] <= 1e-6
    assert variants["the embedded default as shipped"]["batch_invariance_max_abs_diff"] <= 1e-6
    assert variants["int8-dynamic (previous default)"]["batch_invariance_max_abs_diff"] > 1e-6


# The switch turns off onnxruntime's AVX-512 branch: it needs an x86 CPU without AVX-VNNI or AMX,
# whose int8 kernels are chosen elsewhere (the tool refuses those CPUs, saying so).
SWITCHABLE = platform.machine() in ("x86_64", "AMD64") and not cpu_flags() & {"avx_vnni", "amx_int8"}


@pytest.mark.skipif(not SWITCHABLE, reason="needs an x86 CPU without AVX-VNNI or AMX")
def test_avx2_kernel_switch_is_proved_by_its_probe():
    """On a VNNI CPU the tool's probe must come back saturated (AVX2's kernel) and zsc must see no
    VNNI; on a CPU without VNNI the tool refuses, since the benchmark runs AVX2's kernels anyway."""
    probe = subprocess.run([sys.executable, str(REPO / "benchmarks" / "avx2_kernels.py"), "--probe"],
                           capture_output=True, text=True, timeout=300, cwd=REPO / "benchmarks")
    if not has_int8_dot_products():
        assert probe.returncode != 0 and "no VNNI" in probe.stderr
        return
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert "saturated (1048544) with the switch" in probe.stdout and "zsc there sees no 8-bit dot products" in probe.stdout


SCORE_WITH_THE_DEFAULT = """
import json
from zsc.engine import ZeroShotClassifier
classifier = ZeroShotClassifier.default()
texts = ["The match went to extra time before the home side scored.", "Shares fell sharply after the quarterly report.",
         "The new phone has a faster chip and a brighter screen.", "Heavy rain is expected across the region tomorrow.",
         "The senate passed the budget after a long debate.", "A small bakery opened on the corner of our street."]
ranked = classifier(texts, ["sports", "business", "technology", "weather", "politics"])
print(json.dumps({"reason": classifier.session.reason, "ranked": ranked}))
"""


@pytest.mark.skipif(not SWITCHABLE or not has_int8_dot_products(),
                    reason="needs an AVX-512 VNNI CPU: there the default runs its twin, and AVX2's kernels can be switched on")
def test_the_default_answers_the_same_with_avx2_kernels(tmp_path):
    """The portable graph an AVX2-only CPU runs gives the twin's answers (the same integers;
    only the fp32 kernels around them round differently)."""
    script = tmp_path / "score.py"
    script.write_text(SCORE_WITH_THE_DEFAULT)
    native = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=300)
    avx2 = subprocess.run([sys.executable, str(REPO / "benchmarks" / "avx2_kernels.py"), str(script)],
                          capture_output=True, text=True, check=True, timeout=300, cwd=REPO / "benchmarks")
    twin, portable = json.loads(native.stdout), json.loads(avx2.stdout.splitlines()[-1])
    assert "twin" in twin["reason"] and "twin" not in portable["reason"]
    for ours, reference in zip(portable["ranked"], twin["ranked"], strict=True):
        assert_same_ranking(ours, [r["label"] for r in reference], [r["score"] for r in reference], tolerance=2e-3)


def test_op_profile_smoke(tmp_path):
    _, data = quick_result("op_profile.py", "ops", tmp_path)
    variants = data["variants"]
    assert len(variants) == 4
    fp32, default, seven_bit, shipped = variants.values()
    assert any(op.startswith("MatMul on") for op in fp32["ms_per_call_by_type"])
    # The int8 graphs run their GEMMs as MatMulIntegerToFloat; their shares add up to the whole.
    assert all(any(op.startswith("MatMulIntegerToFloat") for op in v["ms_per_call_by_type"]) for v in (default, seven_bit, shipped))
    assert all(abs(sum(v["node_share_by_type"].values()) - 1) < 1e-6 and v["runs"] >= 1 for v in variants.values())


def test_memory_smoke(tmp_path):
    _, data = quick_result("memory.py", "memory", tmp_path)
    rows = data["peak_rss_mb"]
    assert len(rows) == 1  # --quick: the first of the 3 workloads
    assert all(row["zsc int8"] < row["transformers torch"] for row in rows.values())


def test_gpu_comparison_dry_run(tmp_path):
    """On this CPU-only machine: the default under auto and cpu (GPU feeding switches are skipped)."""
    _, data = quick_result("gpu.py", "gpu", tmp_path)
    rows = data["contenders"]
    assert {"zsc default, auto", "zsc default, cpu"} <= set(rows) and data["reference"] == "zsc default, cpu"
    assert rows["zsc default, auto"]["precision"] == "int8" and rows["zsc default, auto"]["compute_type"] == "cpu"
    assert all(r["pairs_per_s"] > 0 and r["top1_agreement"] == 1.0 for r in rows.values())


def test_tune_benchmark_smoke(tmp_path):
    result, data = quick_result("tune.py", "tune", tmp_path)
    trec = data["sets"]["trec"]
    assert trec["k"] == 2 and trec["pairs"] == 6 * 2 * 6 and trec["held_out_rows"] == 20  # 1 entailment + 5 contradictions each
    assert 0 <= trec["zero_shot"]["accuracy"] <= 1 and 0 <= trec["tuned"]["accuracy"] <= 1
    assert (tmp_path / result.name.replace(".json", ".png")).exists()


def test_multi_label_study_smoke(tmp_path):
    _, data = quick_result("multi_label.py", "multilabel", tmp_path)
    assert len(data["held_out"]) == 3 and len(data["tuning_sets"]) == 4
    for formulas in data["held_out"].values():
        assert set(formulas) == {"exact NLI (the pipeline)", "hybrid, absolute (before)", "embedding, calibrated", "hybrid, calibrated",
                                 "hybrid, calibrated, as shipped"}
        assert all(0 <= f["f1_at_0.5"] <= f["best_f1"] <= 1 for f in formulas.values())
    assert isinstance(data["targets_met"], bool) and data["chosen"][1] > 0
    assert data["tuning_mean_f1_shipped"] <= data["tuning_mean_f1"]  # the pick is the grid's best
    assert data["default_call_matches"]  # the call with no options turns on the labels the study computed for it


def test_accuracy_by_mode_smoke(tmp_path):
    _, data = quick_result("accuracy_modes.py", "accuracy-modes", tmp_path)
    sets = data["sets"]
    assert set(sets) == {"rottentomatoes", "financialphrasebank"}
    modes = sets["financialphrasebank"]["modes"]
    assert {"nli (the pipeline)", "hybrid", "embedding", "default call (auto)", "zsc tune, k = 8"} <= set(modes)
    # 3 labels: the call with no options is the hybrid over every label; before the few-label rule it was exact NLI
    assert modes["default call (auto)"] == modes["hybrid"] and all(0 <= m["accuracy"] <= 1 for m in modes.values())
    assert modes["default call before (exact NLI up to 10 labels)"] == modes["nli (the pipeline)"]


def test_auto_rules_smoke(tmp_path):
    """The study that chose the default call's K: runs, chooses a K among its candidates, and the
    default call itself picks the labels the study computed for it."""
    _, data = quick_result("auto_rules.py", "auto-rules", tmp_path)
    assert data["chosen_k"] in data["candidate_k"] and set(data["held_out"]) == {"banking77", "massive"}
    assert all(call["same labels as computed"] and call["exact NLI seconds"] > 0 for call in data["calls"].values())


def test_few_label_rule_smoke(tmp_path):
    """The study that chose the few-label gate: runs, chooses among its candidates by its stated
    rule, and the default call itself picks the labels the study computed for the engine's gate."""
    _, data = quick_result("few_label_rule.py", "few-label-rule", tmp_path)
    assert data["chosen"] in data["tuning"]["ag_news"] and len(data["held_out"]) == 7
    assert all(0 <= weight <= 1 for weight in data["lambda"].values()) and data["default_call_matches"]


def test_large_models_smoke(tmp_path):
    """Shrunk shapes, the same code path: build, export, and each contender in its own process."""
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "large_models.py"), "--quick", "--out", str(tmp_path),
                           "--models", "bart-large-mnli,ModernBERT-base"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = tmp_path.glob("*-large-quick.json")
    models = json.loads(result.read_text())["models"]
    assert list(models) == ["bart-large-mnli", "ModernBERT-base"]
    for model in models.values():
        assert len(model["contenders"]) == 6 and all(row["pairs_per_s"] > 0 and row["peak_rss_mb"] > 0 for row in model["contenders"].values())
        assert model["export_s"] > 0 and set(model["size_mb"]) == {"int8", "int8-dynamic", "fp32"}
    assert result.with_suffix(".png").stat().st_size > 10_000 and "x torch" in result.with_suffix(".md").read_text()
