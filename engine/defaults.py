"""Runtime defaults defined once: the classifier, the CLI and the server import them from here."""

from __future__ import annotations

from .feeding import Feeding

# transformers' default hypothesis (ZeroShotClassificationPipeline): "{}" is where the label goes.
DEFAULT_TEMPLATE = "This example is {}."


# CPU: a batch's activations should stay in the cores' caches (2 MB of L2 per core where measured).
# `benchmarks/batch_budget.py` measured 32 pairs / 512 padded tokens (the least the budget is lifted
# to for a 512-token model) at 1.04-1.15x the earlier 16 pairs / 2,048 tokens with MiniLM, and
# 1.09-1.45x with bart-large- and deberta-base-shaped models (short pairs there: 0.94-0.98x).
# CUDA: batch 256 / 32,768 tokens was the best of 16, 256 and 1024 (fp16 export, H200: 11.6k, 21.0k
# and 15.8k pairs/s). The CUDA buckets, I/O binding and prefetching are not measured yet
# (benchmarks/gpu.py compares them on and off).
PROVIDER_FEEDING = {
    "cpu": Feeding(batch_size=32, max_batch_tokens=512, pad_multiple=1, io_binding=False, prefetch=False),
    "cuda": Feeding(batch_size=256, max_batch_tokens=32768, pad_multiple=16, io_binding=True, prefetch=True),
}

# Scoring beyond one NLI pass per label (see scoring.py; chosen by `make bench-hybrid` on the
# tuning half of the shared sets, reported on the other half).
# "auto" (the default), with an embedder: the hybrid over every label of a short single-label call
# (its embedder weight from HYBRID_LABEL_GATE, below), in a multi-label call (below, MULTI_LABEL_*),
# and in a single-label call when a prefilter picks the candidates, where exact
# NLI on the K alone ranked worse than the embedding it was narrowed by (banking77, 77 labels:
# 0.40-0.51 against 0.65; hybrid on the K 0.67), and with long_text "max", where the hybrid over
# windows finds one on-topic sentence in ~650 words of unrelated text far more often than NLI
# alone (`make bench-long`). Exact NLI without an embedder, and with long_text "mean".
# The modes themselves, what each needs and auto's rule as code: scoring_modes.py.
DEFAULT_SCORING = "auto"
# A long label list: with scoring "auto" and prefilter_top_k "auto" (both the defaults), a
# single-label call with more than 10 labels and an embedder narrows each text's labels to the
# AUTO_PREFILTER_TOP_K most similar to it and ranks those with the hybrid; 10 labels or fewer stay
# exact NLI. The hosted Inference API long documented at most 10 candidate_labels (longer lists
# "misleading"), so no client of it relies on the pipeline's scores past 10. K was chosen by
# `make bench-auto` on the first halves of banking77 and massive, and reported on the second
# halves (README, "Accuracy").
DEFAULT_PREFILTER_TOP_K = "auto"
AUTO_PREFILTER_MIN_LABELS = 11
AUTO_PREFILTER_TOP_K = 5


def describe_auto_prefilter() -> str:
    """What prefilter_top_k "auto" does, as --help and the OpenAPI contract say it."""
    return (f"with scoring auto, {AUTO_PREFILTER_TOP_K} for a single-label call of more than {AUTO_PREFILTER_MIN_LABELS - 1} "
            "labels (with an embedder), else every label")
EMBEDDING_TEMPERATURE = 0.05  # softmax(cosine / T) over the labels
HYBRID_NLI_WEIGHT = 1.0  # log p_hybrid = w log p_nli + lambda log p_embedding + const
# The single-label hybrid's embedder weight lambda, per call from its labels alone: 1 while their
# mean pairwise cosine under the embedder is at most HYBRID_LABEL_GATE[0], 0 (exact NLI) from
# HYBRID_LABEL_GATE[1] on, linear between (scoring.embedder_weight_for_spread). Antonyms and negations embed
# close together ("positive"/"negative" 0.70, "spam"/"not spam" 0.83) and there the embedder
# alone ranked below NLI. Chosen by `make bench-auto` (few_label_rule.py) on the first halves of
# seven shared sets of at most 10 labels, reported on the second halves (README, "Accuracy").
HYBRID_LABEL_GATE = (0.4, 0.8)
# Multi-label with the embedder (the hybrid, and auto's choice for a multi-label call of 2 labels
# or more): each label's evidence e = w * NLI log-odds + (cos - mean cos of the call's other labels) / T,
# scored sigmoid(e - max e over the text's labels + MARGIN). The text's best label scores
# sigmoid(MARGIN) = 0.73 and the others by how far they fall behind it, so 0.5 means "within MARGIN
# of the best label" on every label set; exact NLI's best threshold moved from 0.06 to 0.79 between
# label sets, the earlier absolute hybrid's from 0.66 to 0.99. w, T and MARGIN were chosen by
# `make bench-multilabel` on half of goemotions_ekman and three built multi-label sets, and reported
# on the other half and two held-out built sets: micro-F1 at 0.5 within 0.01 of the best threshold
# on each, and above exact NLI's best (goemotions 0.291 against 0.279; README, "Accuracy").
# What it gives up: the best label is always on, so the score cannot say that no label applies.
MULTI_LABEL_TEMPERATURE = 0.05
MULTI_LABEL_NLI_WEIGHT = 0.25
MULTI_LABEL_MARGIN = 1.0
# scoring "auto" turns to the hybrid in a multi-label call of at least this many labels (with one
# label there is no best to be near: exact NLI, as the pipeline).
AUTO_MULTI_LABEL_MIN_LABELS = 2
# The single-label hybrid over windows (long_text "max"/"mean"): per window and label, NLI log-odds
# + (cos - mean cos of the call's other labels in that window) / T; the window's own baseline
# discounts filler that is a little like every label. Chosen on seven kinds of needle documents
# (`make bench-long`: the relative cosine at T 0.1 against raw cosine at 0.05, 0.839 against 0.818,
# never lower on a kind) before two held-out kinds ran (0.950 and 0.825).
WINDOW_TEMPERATURE = 0.1

# Long texts: "truncate" keeps the pipeline's behaviour (the premise is cut to the model's
# window); "max"/"mean" score every window of the text and aggregate per label.
LONG_TEXT_MODES = ("truncate", "max", "mean")
DEFAULT_LONG_TEXT = "truncate"
# Window size per mode, in tokens (None would mean as long as the model allows beside the
# hypothesis). Measured with `make bench-long` (embedded model): "max" at 32 with the hybrid finds
# one on-topic sentence in ~650 words of unrelated text in 0.825-1.000 of the documents of each
# kind of clean filler, two held-out kinds included (NLI over 128-token windows, the previous
# default: 0.600-1.000); "mean" at 64 took imdb from 0.660 (truncate) to 0.767.
DEFAULT_WINDOW_TOKENS: dict[str, int | None] = {"max": 32, "mean": 64}


def describe_window_defaults() -> str:
    """"32 for max, 64 for mean": how --help, docstrings and the README quote the window defaults."""
    return ", ".join(f"{size} for {mode}" for mode, size in DEFAULT_WINDOW_TOKENS.items())


# How far into a text "max"/"mean" read (about 6,000 English words; 64 windows of 128 tokens):
# a text's windows, and so a call's cost, stay bounded however long the text is. The rest of a
# longer text is not read, as truncation does past the model's window.
LONG_TEXT_MAX_TOKENS = 8192
