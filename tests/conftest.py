from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tiny_models import BUILDERS, SHARED

REPO = Path(__file__).resolve().parents[1]
MINILM = SHARED / "models" / "minilm-l6-nli"
DATA = SHARED / "data"


def pytest_report_header(config):
    return f"shared data: {SHARED} ({'found' if SHARED.exists() else 'MISSING'})"


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory):
    """Factory: architecture name -> directory of a tiny random HF model (built once)."""
    built: dict[str, Path] = {}

    def make(arch: str) -> Path:
        if arch not in built:
            built[arch] = BUILDERS[arch](tmp_path_factory.mktemp(f"hf-{arch}"))
        return built[arch]

    return make


@pytest.fixture(scope="session")
def tiny_exported(tiny_hf, tmp_path_factory):
    """Factory: (architecture, quantize) -> exported zsc model directory (built once)."""
    from zsc.export import export_model

    built: dict[tuple[str, str], Path] = {}

    def make(arch: str, quantize: str = "none") -> Path:
        key = (arch, quantize)
        if key not in built:
            out = tmp_path_factory.mktemp(f"zsc-{arch}-{quantize}") / "model"
            export_model(str(tiny_hf(arch)), out, quantize=quantize, optimize="none", progress=False)
            built[key] = out
        return built[key]

    return make


@pytest.fixture(scope="session")
def minilm_fp32(tmp_path_factory) -> Path:
    """The shared MiniLM NLI model exported to fp32 ONNX (no fusion): the parity subject."""
    from zsc.export import export_model

    out = tmp_path_factory.mktemp("minilm") / "fp32"
    export_model(str(MINILM), out, quantize="none", optimize="none", progress=False)
    return out


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    from zsc.engine.loading import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def hf_pipeline():
    """Factory: HF model directory -> transformers' zero-shot pipeline (torch), cached."""
    cache: dict[str, object] = {}

    def make(model_dir: Path):
        key = str(model_dir)
        if key not in cache:
            from transformers import pipeline

            cache[key] = pipeline("zero-shot-classification", model=key, device=-1)
        return cache[key]

    return make
