"""How often the embedded int8 model's top label agrees with fp32 on real AG News texts."""

from __future__ import annotations

import itertools
import json

import pytest

from conftest import DATA
from zsc.engine import ZeroShotClassifier

# The target is 99%; the embedded dynamic int8 model measures ~0.905. It is not reachable
# with int8 on this model and task: `make bench-int8` shows that rounding only the weights to int8
# (per channel, activations left in fp32) already gives 0.985, because 6% of these texts have a
# fp32 top-2 entailment-logit gap under 0.05. This bound guards against regressions in the
# quantiser without claiming the target is met.
MEASURED_FLOOR = 0.88


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
