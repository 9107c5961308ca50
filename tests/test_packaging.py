"""The wheel as users get it: one namespace (zsc), runtime deps only, embedded model inside."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from packaging.requirements import Requirement
from ranking import assert_same_ranking

HEAVY = ("torch", "transformers", "optimum")


def test_engine_never_imports_heavy_stacks():
    # The dev venv has torch, transformers and optimum installed: prove zsc.engine leaves them alone.
    code = (
        "import sys; from zsc.engine import ZeroShotClassifier; import zsc.engine.cli, zsc.engine.jobs.classify_file; "
        "c = ZeroShotClassifier.default(); c('I want my money back', ['refund', 'faq']); "
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules or any(k.startswith(m + '.') for k in sys.modules)]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "[]"


def test_import_is_lazy():
    code = "import sys, zsc.engine; print('onnxruntime' in sys.modules, 'numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Build from a copy: setuptools leaves build/ and zsc.egg-info in the source tree, and a stray
    # egg-info in the repo root changes what importlib.metadata reports for the editable install.
    source = tmp_path_factory.mktemp("source") / "zsc"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".cache", ".gpu*"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=600)
    (built,) = out.glob("zsc_onnx-*.whl")
    return built


def test_wheel_holds_one_namespace_and_the_model(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.startswith("zsc_onnx-")}
    assert top == {"zsc"}
    for model in ("default", "embedder"):  # the int8 graph, and the fp16 graph for CUDA over the same 8-bit weights
        assert {f"zsc/engine/models/{model}/{f}" for f in ("model.onnx", "model_fp16.onnx", "weights.bin")} <= set(names)
    assert wheel.stat().st_size <= 60e6, f"the runtime wheel, models included, is {wheel.stat().st_size / 1e6:.1f} MB (limit 60)"
    assert "zsc/export/api.py" in names and "zsc/engine/py.typed" in names
    assert "zsc/engine/server/playground.html" in names  # GET / serves it from the installed package
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    required = [l.split(":", 1)[1].strip() for l in metadata.splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l]
    assert sorted(Requirement(r).name for r in required) == ["numpy", "tokenizers"]  # the onnxruntime build is an extra
    # Each build's extra asks for the onnxruntime that a load failure names as the oldest that runs zsc's graphs.
    from zsc.engine.distribution import MIN_ONNXRUNTIME_TEXT

    builds = [Requirement(l.split(":", 1)[1].strip()) for l in metadata.splitlines() if l.startswith("Requires-Dist: onnxruntime")]
    assert {r.name for r in builds} == {"onnxruntime", "onnxruntime-gpu"}
    assert all(str(r.specifier) == f">={MIN_ONNXRUNTIME_TEXT}" for r in builds), [str(r) for r in builds]


@pytest.mark.slow
def test_wheel_in_clean_venv_with_the_cpu_runtime_only(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{wheel}[cpu]"], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    code = (
        "import json, importlib.util; from zsc.engine import ZeroShotClassifier; "
        "c = ZeroShotClassifier.default(); r = c('I want my money back', ['refund', 'faq', 'legal']); "
        "assert c('I want my money back', ['refund', 'faq'], scoring='hybrid', prefilter_top_k=1)[0]['score'] > 0; "
        "h = ZeroShotClassifier.default(provider='cpu', precision='fp16'); assert h.precision == 'fp16'; "
        "assert h('I want my money back', ['refund', 'faq', 'legal'])[0]['label'] == r[0]['label']; "
        "assert c(['a goal', 'a refund'], [['sports', 'music'], ['refund', 'faq', 'legal']])[1][0]['label']; "
        f"assert all(importlib.util.find_spec(m) is None for m in {HEAVY!r}), 'heavy stack installed'; "
        "print(json.dumps(r))"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from zsc.engine import ZeroShotClassifier

    expected = ZeroShotClassifier.default()("I want my money back", ["refund", "faq", "legal"])
    installed = json.loads(result.stdout)
    assert_same_ranking(installed, [p["label"] for p in expected], [p["score"] for p in expected], 1e-5)
    cli = subprocess.run([str(env_dir / "bin" / "zsc"), "--help"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert cli.returncode == 0 and "classify" in cli.stdout
    export = subprocess.run([str(env_dir / "bin" / "zsc"), "export", "x", str(tmp_path / "o")], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert export.returncode == 2 and "pip install 'zsc-onnx[export]'" in export.stderr


def _resolved(python: Path, requirement: str, tmp_path: Path) -> list[str]:
    """The distributions pip would install for ``requirement`` into a clean venv (metadata only)."""
    report = tmp_path / "report.json"
    result = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--report", str(report),
                             requirement], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return sorted(item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"])


@pytest.mark.slow
def test_each_install_path_ends_with_at_most_one_onnxruntime_build(wheel, tmp_path):
    """pip install zsc-onnx: no build (a message says how to choose); [cpu]: onnxruntime; [gpu] (with
    the server too): onnxruntime-gpu alone, never both (they install the same module)."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "pip>=24"], check=True, capture_output=True, timeout=300)
    builds = {"onnxruntime", "onnxruntime-gpu"}
    expected = {"": set(), "[cpu]": {"onnxruntime"}, "[gpu]": {"onnxruntime-gpu"}, "[gpu,serve]": {"onnxruntime-gpu"},
                "[cpu,serve,ray]": {"onnxruntime"}}
    for extras, wanted in expected.items():
        resolved = _resolved(python, f"{wheel}{extras}", tmp_path)
        assert "zsc-onnx" in resolved and builds & set(resolved) == wanted, (extras, resolved)
        assert not {"torch", "transformers"} & set(resolved), (extras, resolved)


@pytest.mark.slow
def test_without_a_runtime_build_the_command_says_how_to_choose_one(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    install = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True,
                             text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    result = subprocess.run([str(env_dir / "bin" / "zsc"), "classify", "a text", "--labels", "a,b"], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'zsc-onnx[cpu]'" in result.stderr and "pip install 'zsc-onnx[gpu]'" in result.stderr
