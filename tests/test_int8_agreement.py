"""How often the embedded model's top label agrees with fp32 on real AG News texts: its int8 graph
(the CPU's) and its fp16 graph over the same 8-bit weights (CUDA's, run here on the CPU)."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import DATA

from zsc.engine import ZeroShotClassifier

TEXTS = 300
# Measured on these 300 texts against the unfused fp32 export: int8 0.973, fp16 graph 0.990, for the
# embedded model as re-exported on 2026-12-06 (its int8 weights differ from the earlier export's in
# 0.08% of bytes, an export-toolchain drift; that export measured 0.983 here, and both 0.973-0.974 on
# 1,000 texts, with scoring="nli"). The computation is deterministic, so each floor sits just under
# its measurement, leaving room only for float differences between CPUs.
MEASURED_FLOOR = {"int8": 0.97, "fp16": 0.983}


@pytest.mark.slow
def test_top1_agreement_with_fp32_on_ag_news(minilm_fp32, default_model_dir):
    rows = [json.loads(line) for line in itertools.islice(open(DATA / "zsc/ag_news/test.jsonl"), TEXTS)]
    texts = [r["text"] for r in rows]
    labels = json.loads((DATA / "zsc/ag_news/labels.json").read_text())
    fp32 = ZeroShotClassifier.from_pretrained(minilm_fp32)(texts, labels)
    for precision, floor in MEASURED_FLOOR.items():
        graph = ZeroShotClassifier.from_pretrained(default_model_dir, provider="cpu", precision=precision)
        assert graph.precision == precision
        agreement = sum(a[0]["label"] == b[0]["label"] for a, b in zip(fp32, graph(texts, labels))) / len(texts)
        print(f"{precision} vs fp32 top-1 agreement on {TEXTS} ag_news texts: {agreement:.4f}")
        assert agreement >= floor, precision
