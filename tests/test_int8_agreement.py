"""How often the embedded int8 model's top label agrees with fp32 on real AG News texts."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import DATA

from zsc.engine import ZeroShotClassifier

# `make bench-int8` measures 0.979 for the embedded per-row int8 model on these 1,000 texts (the
# target is 0.98; dynamic int8 measured 0.905). The computation is deterministic, so the floor
# sits just under the measurement, leaving room only for float differences between CPUs.
MEASURED_FLOOR = 0.975


@pytest.mark.slow
def test_int8_top1_agreement_with_fp32_on_ag_news(minilm_fp32, default_model_dir):
    rows = [json.loads(line) for line in itertools.islice(open(DATA / "zsc/ag_news/test.jsonl"), 1000)]
    texts = [r["text"] for r in rows]
    labels = json.loads((DATA / "zsc/ag_news/labels.json").read_text())
    fp32 = ZeroShotClassifier.from_pretrained(minilm_fp32)(texts, labels)
    int8 = ZeroShotClassifier.from_pretrained(default_model_dir)(texts, labels)
    agreement = sum(a[0]["label"] == b[0]["label"] for a, b in zip(fp32, int8)) / len(texts)
    print(f"int8 vs fp32 top-1 agreement on 1000 ag_news texts: {agreement:.4f}")
    assert agreement >= MEASURED_FLOOR
