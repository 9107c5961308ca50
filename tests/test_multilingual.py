"""Multilingual zero-shot end to end on an XLM-R checkpoint: non-English templates, labels in other
scripts, texts in seven scripts; the pipeline's scores through the API, and the labels unchanged
through the CLI, a file job and the server (UTF-8 JSON)."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from ranking import assert_same_ranking
from test_server import running, wait_ready

from zsc.engine import ZeroShotClassifier
from zsc.engine.server.config import ServerConfig

TEXTS = ["El equipo ganó el partido en el último minuto.", "Die Wirtschaft wächst schneller als erwartet.",
         "这是一个关于体育的例子。", "هذا مثال عن الرياضة.", "यह खेल के बारे में एक उदाहरण है।", "Это пример о спорте.", "🙂 ⚽ 🚀"]
LABELS = ["deportes", "Wirtschaft", "体育", "спорт", "🙂"]
TEMPLATES = ["Este ejemplo es {}.", "Dieser Text handelt von {}.", "这个例子是关于{}的。"]


@pytest.fixture(scope="module")
def xlmr(tiny_exported):
    return tiny_exported("xlm-roberta", "none")


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("multi_label", [False, True])
def test_xlmr_matches_the_pipeline_with_non_english_templates(xlmr, tiny_hf, hf_pipeline, template, multi_label):
    pipe = hf_pipeline(tiny_hf("xlm-roberta"))
    classifier = ZeroShotClassifier.from_pretrained(xlmr)
    ours = classifier(TEXTS, LABELS, hypothesis_template=template, multi_label=multi_label)
    theirs = pipe(TEXTS, candidate_labels=LABELS, hypothesis_template=template, multi_label=multi_label)
    for mine, ref in zip(ours, theirs):
        assert_same_ranking(mine, ref["labels"], ref["scores"], 1e-5)


def test_labels_come_back_unchanged_from_cli_file_job_and_server(xlmr, tmp_path):
    cli = [sys.executable, "-m", "zsc.engine.cli", "classify", "--model", str(xlmr), "--labels", ",".join(LABELS),
           "--template", TEMPLATES[0]]
    printed = subprocess.run([*cli, TEXTS[2], "--json"], capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert printed.returncode == 0, printed.stderr
    assert {p["label"] for p in json.loads(printed.stdout)} == set(LABELS) and "体育" in printed.stdout  # not \\u escapes

    source, out = tmp_path / "texts.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in TEXTS), encoding="utf-8")
    job = subprocess.run([*cli, "--input", str(source), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == TEXTS and all(set(r["labels"]) == set(LABELS) for r in rows)

    expected = ZeroShotClassifier.from_pretrained(xlmr)(TEXTS, LABELS, hypothesis_template=TEMPLATES[1])
    with running(ServerConfig(models={"xlmr": xlmr})) as base:
        wait_ready(base)
        body = {"inputs": TEXTS, "parameters": {"candidate_labels": LABELS, "hypothesis_template": TEMPLATES[1]}}
        response = httpx.post(base + "/models/xlmr", json=body, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    answer = json.loads(response.content.decode("utf-8"))
    assert [[p["label"] for p in row] for row in answer] == [[p["label"] for p in row] for row in expected]
    assert all(abs(a["score"] - b["score"]) < 1e-6 for x, y in zip(answer, expected) for a, b in zip(x, y))
