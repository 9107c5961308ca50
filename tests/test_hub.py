"""Hub ids work like from_pretrained elsewhere, in the API, the CLI and the server: a zsc export,
an ONNX repository (transformers.js layout) and a transformers checkpoint (exported once), each
offline against a hub cache laid out as huggingface_hub lays it out (never the real hub)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from test_server import free_port, wait_ready

from zsc.engine.hub import checkpoint_files

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TEXT = "I want my money back"


def cache_repo(cache: Path, repo_id: str, files: dict[str, Path | bytes]) -> None:
    """Put ``files`` into the hub cache as huggingface_hub would: blobs, a snapshot of links, refs/main."""
    root = cache / f"models--{repo_id.replace('/', '--')}"
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(COMMIT)
    for name, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = root / "snapshots" / COMMIT / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))


@pytest.fixture(scope="module")
def hub(tmp_path_factory, default_model_dir, tiny_hf, tiny_exported) -> dict[str, Path]:
    """Three repositories in an offline hub cache, and the environment that points at it."""
    root = tmp_path_factory.mktemp("hub")
    cache = root / "hf"
    # A zsc export (the embedded model), with a file its manifest does not list.
    cache_repo(cache, "zsc-test/minilm-zsc", {p.name: p for p in default_model_dir.iterdir() if p.is_file()}
               | {"README.md": b"# a model card", "pytorch_model.bin": b"not needed"})
    # An ONNX repository in transformers.js's layout: a graph that zsc did not write the manifest for.
    checkpoint = tiny_hf("bert")
    cache_repo(cache, "zsc-test/tiny-onnx", {"onnx/model.onnx": tiny_exported("bert", "none") / "model.onnx",
                                               "config.json": checkpoint / "config.json", "tokenizer.json": checkpoint / "tokenizer.json",
                                               "tokenizer_config.json": checkpoint / "tokenizer_config.json"})
    # A transformers checkpoint, with other frameworks' weights it must not read.
    cache_repo(cache, "zsc-test/tiny-checkpoint", {p.name: p for p in checkpoint.iterdir() if p.is_file()}
               | {"tf_model.h5": b"tensorflow weights", "flax_model.msgpack": b"flax weights"})
    return {"cache": cache, "zsc_cache": root / "zsc", "checkpoint": checkpoint}


def env(hub: dict[str, Path]) -> dict[str, str]:
    return os.environ | {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub["cache"]), "ZSC_CACHE": str(hub["zsc_cache"])}


def classify(hub, model: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", TEXT, "--labels", "refund,faq,legal", "--model", model,
                           "--json", *extra], capture_output=True, text=True, timeout=600, env=env(hub))


def scores(result: subprocess.CompletedProcess) -> dict[str, float]:
    assert result.returncode == 0, result.stderr[-3000:]
    return {p["label"]: p["score"] for p in json.loads(result.stdout)}


def test_a_zsc_export_on_the_hub_loads_with_its_listed_files_verified(hub, default_model_dir):
    from zsc.engine import ZeroShotClassifier

    expected = {p["label"]: p["score"] for p in ZeroShotClassifier.from_pretrained(default_model_dir)(TEXT, ["refund", "faq", "legal"])}
    assert scores(classify(hub, "zsc-test/minilm-zsc")) == pytest.approx(expected, abs=1e-6)


def test_a_tampered_file_in_the_hub_cache_is_caught(hub, tmp_path):
    damaged = tmp_path / "hf"
    shutil.copytree(hub["cache"], damaged, symlinks=True)
    blob = (damaged / "models--zsc-test--minilm-zsc" / "snapshots" / COMMIT / "tokenizer.json").resolve()
    blob.write_bytes(blob.read_bytes().replace(b'"[UNK]"', b'"[UNX]"', 1))
    result = classify(hub | {"cache": damaged}, "zsc-test/minilm-zsc")
    assert result.returncode == 2 and "does not match the sha256 in zsc.json" in result.stderr, result.stderr[-2000:]


def test_an_onnx_repository_runs_as_it_is(hub, tiny_exported):
    from zsc.engine import ZeroShotClassifier

    result = classify(hub, "zsc-test/tiny-onnx")
    expected = {p["label"]: p["score"] for p in ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"))(TEXT, ["refund", "faq", "legal"])}
    assert scores(result) == pytest.approx(expected, abs=1e-6)
    assert "did not export" in result.stderr and "batch invariance is unknown" in result.stderr


def test_a_checkpoint_is_exported_once_then_loaded_from_zscs_cache(hub, tmp_path):
    first = classify(hub, "zsc-test/tiny-checkpoint")
    assert "exporting zsc-test/tiny-checkpoint" in first.stderr, first.stderr[-2000:]
    (exported,) = (hub["zsc_cache"] / "exports" / "zsc-test--tiny-checkpoint").iterdir()
    manifest = json.loads((exported / "zsc.json").read_text())
    assert manifest["source"] == "zsc-test/tiny-checkpoint" and manifest["precision"] == "int8"
    assert {v["precision"] for v in manifest["variants"]} == {"fp16"}  # and an fp16 graph for CUDA
    stamp = (exported / "zsc.json").stat().st_mtime_ns
    again = classify(hub, "zsc-test/tiny-checkpoint")
    assert "exporting" not in again.stderr and (exported / "zsc.json").stat().st_mtime_ns == stamp
    assert scores(again) == scores(first)


def test_without_the_export_extra_a_checkpoint_names_the_command(hub, tmp_path):
    code = ("import zsc.engine.hub as hub; hub._exporter = lambda task: None\n"
            "from zsc.engine import ZeroShotClassifier\n"
            "try:\n    ZeroShotClassifier.from_pretrained('zsc-test/tiny-checkpoint')\n"
            "except ValueError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=env(hub) | {"ZSC_CACHE": str(tmp_path / "empty")})
    assert "is a transformers checkpoint, not a zsc model directory: export it once with `zsc export zsc-test/tiny-checkpoint DIR`" \
        in result.stdout, result.stdout + result.stderr[-2000:]
    assert "pip install 'zsc-onnx[cpu,export]'" in result.stdout


def test_an_export_reads_config_tokenizer_and_one_weights_format_only():
    files = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "model.safetensors", "pytorch_model.bin",
             "tf_model.h5", "flax_model.msgpack", "onnx/model.onnx", "README.md", ".gitattributes"]
    assert checkpoint_files(files) == ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "model.safetensors"]
    sharded = ["config.json", "tokenizer.json", "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin",
               "pytorch_model.bin.index.json", "rust_model.ot"]
    assert checkpoint_files(sharded)[2:] == sharded[2:5]
    embedder = ["config.json", "tokenizer.json", "model.safetensors", "modules.json", "1_Pooling/config.json", "onnx/model.onnx"]
    assert checkpoint_files(embedder, "embedding") == ["config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json",
                                                       "model.safetensors"]


def test_an_unknown_repo_offline_names_the_path_and_the_hub_lookup(hub):
    result = classify(hub, "zsc-test/not-cached")
    assert result.returncode == 2 and "no local model directory" in result.stderr and "hub lookup of 'zsc-test/not-cached' failed" \
        in result.stderr, result.stderr[-2000:]


def test_zsc_serve_takes_a_hub_id(hub):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "zsc.engine.cli", "serve", "--model", "zsc-test/minilm-zsc", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env(hub))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, timeout=60)
        response = httpx.post(base + "/models/minilm-zsc", json={"inputs": TEXT, "parameters": {"candidate_labels": ["refund", "faq"]}},
                              timeout=60)
        assert response.status_code == 200 and {p["label"] for p in response.json()} == {"refund", "faq"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_python_api_takes_all_three_kinds(hub):
    code = ("import json\nfrom zsc.engine import ZeroShotClassifier\n"
            "for repo in ('zsc-test/minilm-zsc', 'zsc-test/tiny-onnx', 'zsc-test/tiny-checkpoint'):\n"
            f"    clf = ZeroShotClassifier.from_pretrained(repo, revision='{COMMIT}')\n"
            "    print(json.dumps([repo, clf.precision, clf('I want my money back', ['refund', 'faq'])[0]['label'] in ('refund', 'faq')]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env(hub))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [["zsc-test/minilm-zsc", "int8", True], ["zsc-test/tiny-onnx", "unknown", True], ["zsc-test/tiny-checkpoint", "int8", True]]


# Downloads, through a stand-in for the hub's endpoint on loopback: only what is needed is fetched.

def test_only_the_files_needed_are_downloaded(hub, tmp_path, default_model_dir, tiny_exported):
    from hub_stand_in import serving

    checkpoint = hub["checkpoint"]
    repos = {
        "zsc-test/tiny-onnx": {"onnx/model.onnx": (tiny_exported("bert", "none") / "model.onnx").read_bytes(),
                               "onnx/model_quantized.onnx": b"not read", "onnx/model_fp16.onnx": b"not read",
                               "model.safetensors": (checkpoint / "model.safetensors").read_bytes()}
        | {name: (checkpoint / name).read_bytes() for name in ("config.json", "tokenizer.json", "tokenizer_config.json")},
        "zsc-test/minilm-zsc": {p.name: p.read_bytes() for p in default_model_dir.iterdir() if p.is_file()}
        | {"README.md": b"# a model card", "pytorch_model.bin": b"weights zsc does not read" * 1000},
        "zsc-test/tiny-checkpoint": {p.name: p.read_bytes() for p in checkpoint.iterdir() if p.is_file()}
        | {"tf_model.h5": b"tensorflow weights", "flax_model.msgpack": b"flax weights", "onnx/decoder_model.onnx": b"not read"},
    }
    with serving(repos) as (endpoint, stand_in):
        online = os.environ | {"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "hf"), "ZSC_CACHE": str(tmp_path / "zsc"),
                               "HF_HUB_DISABLE_TELEMETRY": "1"}
        online.pop("HF_HUB_OFFLINE", None)
        for repo in repos:
            result = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "classify", TEXT, "--labels", "refund,faq", "--model", repo],
                                    capture_output=True, text=True, timeout=600, env=online)
            assert result.returncode == 0, result.stderr[-3000:]
        fetched = {repo: sorted(name for r, name in stand_in.fetched if r == repo) for repo in repos}
    assert fetched["zsc-test/tiny-onnx"] == ["config.json", "onnx/model.onnx", "tokenizer.json", "tokenizer_config.json"]
    manifest = json.loads((default_model_dir / "zsc.json").read_text())
    assert fetched["zsc-test/minilm-zsc"] == sorted(["zsc.json", *manifest["files"]])  # not the README, not the .bin
    assert fetched["zsc-test/tiny-checkpoint"] == sorted(checkpoint_files(list(repos["zsc-test/tiny-checkpoint"])))
    assert not {"tf_model.h5", "flax_model.msgpack", "onnx/decoder_model.onnx"} & set(fetched["zsc-test/tiny-checkpoint"])
