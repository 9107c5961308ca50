"""A text's scores never depend on its batch-mates: for every precision zsc ships, and through
every way a user reaches the model (Python API, CLI, file job, server under concurrency)."""

from __future__ import annotations

import concurrent.futures
import json
import random
import subprocess
import sys

import numpy as np
import pytest
from tiny_models import BUILDERS

from zsc.engine import ZeroShotClassifier

TOLERANCE = 1e-6
LABELS = ["sport", "money", "politics", "science", "weather"]
PROBE = "The central bank raised interest rates again to slow inflation."
MATES = [
    "A",
    "The striker scored twice in the final minutes of the derby.",
    "Astronomers found water ice in a crater near the moon's south pole, which could support a future base "
    "for longer missions and change how agencies plan crewed flights for the next decade.",
    "Heavy snow closed the mountain passes.",
    "Parliament voted on the new budget late on Tuesday after a long and bitter debate about taxes.",
    "ok",
    "Quarterly earnings beat expectations as cloud revenue grew.",
]


def scores_by_label(ranked: list[dict]) -> np.ndarray:
    by_label = {p["label"]: p["score"] for p in ranked}
    return np.array([by_label[label] for label in LABELS])


def probe_differences(classifier: ZeroShotClassifier) -> list[float]:
    """Largest score change of the probe text, alone against each of several batch compositions
    and batch sizes, single-label and multi-label."""
    rng = random.Random(0)
    differences = []
    for multi_label in (False, True):
        alone = scores_by_label(classifier(PROBE, LABELS, multi_label=multi_label))
        batches = []
        for size in (1, 3, len(MATES)):
            mates = rng.sample(MATES, size)
            batches.append((classifier, mates[: size // 2] + [PROBE] + mates[size // 2 :]))
        for batch_size, tokens in ((4, 64), (64, 1 << 16)):
            other = ZeroShotClassifier(classifier.model_dir, classifier.session, classifier.encoder, batch_size, tokens)
            batches.append((other, MATES + [PROBE]))
        for runner, texts in batches:
            together = scores_by_label(runner(texts, LABELS, multi_label=multi_label)[texts.index(PROBE)])
            differences.append(float(np.abs(together - alone).max()))
    return differences


# fp16 kernels differ by batch shape, so fp16 moves in its last bits (the README says so, and each
# export records it as batch_invariance): a fresh clone's tiny models (tokenizer training is not
# deterministic) gave 3e-5 for bert and mpnet. fp32 and per-row int8 are held to TOLERANCE.
FP16_TOLERANCE = 1e-4


@pytest.mark.parametrize("quantize", ["none", "fp16", "int8"])
@pytest.mark.parametrize("arch", sorted(BUILDERS))
def test_every_precision_is_batch_invariant(arch, quantize, tiny_exported):
    classifier = ZeroShotClassifier.from_pretrained(tiny_exported(arch, quantize), provider="cpu")
    assert max(probe_differences(classifier)) <= (FP16_TOLERANCE if quantize == "fp16" else TOLERANCE)


def test_embedded_default_is_batch_invariant(default_model_dir):
    classifier = ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu")
    assert classifier.model_dir.manifest.precision == "int8"
    assert max(probe_differences(classifier)) <= TOLERANCE


def test_dynamic_int8_is_the_batch_dependent_mode(minilm_fp32, tmp_path):
    """The check above can fail: int8-dynamic (named for it) moves with batch-mates on the real model."""
    import shutil

    from zsc.engine.model_files import MANIFEST_NAME, sha256_file, write_manifest
    from zsc.export.presets import resolve_preset
    from zsc.export.quantize import quantize_int8_dynamic

    model = tmp_path / "dynamic"
    shutil.copytree(minilm_fp32, model)
    quantize_int8_dynamic(minilm_fp32 / "model.onnx", model / "model.onnx", resolve_preset("avx2"))
    manifest = json.loads((model / MANIFEST_NAME).read_text())
    manifest["files"]["model.onnx"] = sha256_file(model / "model.onnx")
    write_manifest(model / MANIFEST_NAME, manifest | {"precision": "int8-dynamic"})
    assert max(probe_differences(ZeroShotClassifier.from_pretrained(model, provider="cpu"))) > 1e-2


def test_api_cli_file_and_server_give_the_same_scores(default_model_dir, tmp_path):
    """One text, the embedded model: the Python API alone, the CLI, a file job among other rows,
    and the server under concurrent, merged requests all give the same scores."""
    expected = scores_by_label(ZeroShotClassifier.default()(PROBE, LABELS))  # the CLI and the server pair it with the embedder
    cli = [sys.executable, "-m", "zsc.engine.cli", "classify"]
    result = subprocess.run([*cli, PROBE, "--labels", ",".join(LABELS), "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(scores_by_label(json.loads(result.stdout)), expected, atol=TOLERANCE, rtol=0)

    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in MATES[:3] + [PROBE] + MATES[3:]))
    out = tmp_path / "out.jsonl"
    result = subprocess.run([*cli, "--input", str(data), "--labels", ",".join(LABELS), "--output", str(out), "--chunk-size", "5"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    row = [json.loads(line) for line in out.read_text().splitlines()][3]
    assert row["text"] == PROBE
    file_scores = dict(zip(row["labels"], row["scores"]))
    np.testing.assert_allclose([file_scores[label] for label in LABELS], expected, atol=TOLERANCE, rtol=0)

    from test_server import post, running, wait_ready

    from zsc.engine.server.config import ServerConfig

    config = ServerConfig(models={"default": default_model_dir}, max_wait_ms=20, cache_entries=0)
    texts = MATES + [PROBE] * 4
    with running(config) as base:
        wait_ready(base)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda t: post(base, "/models/default", {"inputs": t, "parameters": {"candidate_labels": LABELS}}), texts))
    for text, response in zip(texts, responses):
        assert response.status_code == 200
        if text == PROBE:
            np.testing.assert_allclose(scores_by_label(response.json()), expected, atol=TOLERANCE, rtol=0)
