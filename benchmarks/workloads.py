"""Inputs for the benchmarks, all from ../shared/data."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from contenders import SHARED

ZSC_DATA = SHARED / "data" / "zsc"
NLI_DATA = SHARED / "data" / "nli"
# ~25 words, for the latency workload
LATENCY_TEXT = "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed as soon as possible please."
LATENCY_LABELS = ["refund", "legal", "faq"]


# AG News's labels (../shared/data/zsc/ag_news/labels.json), for hosts without ../shared.
AG_NEWS_LABELS = ["World", "Sports", "Business", "Sci/Tech"]


def texts_file(path: Path, limit: int) -> list[str]:
    """The 'text' field of the first ``limit`` JSON lines of ``path`` (texts carried to a GPU host)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(limit))]


def ag_news(limit: int) -> tuple[list[str], list[str]]:
    rows = [json.loads(l) for l in itertools.islice(open(ZSC_DATA / "ag_news/test.jsonl", encoding="utf-8"), limit)]
    return [r["text"] for r in rows], json.loads((ZSC_DATA / "ag_news/labels.json").read_text())


def many_labels(count: int = 50) -> list[str]:
    words = ("world politics sports business science technology health finance travel food music art film "
             "education law crime weather climate energy space religion fashion gaming cars housing jobs family "
             "history books war peace economy markets startups medicine biology physics chemistry math software "
             "hardware internet security privacy television radio theatre dance nature animals ocean").split()
    return words[:count]


def long_texts(count: int, target_words: int = 380) -> list[str]:
    """Texts near the model's 512-token limit, built by joining consecutive AG News articles."""
    texts, _ = ag_news(count * 12)
    out, words = [], []
    for text in texts:
        words += text.split()
        if len(words) >= target_words:
            out.append(" ".join(words[:target_words]))
            words = []
        if len(out) == count:
            break
    return out
