"""Runtime defaults defined once: the classifier, the CLI and the server import them from here."""

from __future__ import annotations

DEFAULT_BATCH_SIZE = 16  # pairs per onnxruntime batch on CPU (measured: larger batches pad more)
DEFAULT_BATCH_TOKENS = 2048  # padded tokens per batch: keeps memory flat whatever the text lengths

# Scoring beyond one NLI pass per label (see scoring.py; chosen by `make bench-hybrid` on the
# tuning half of the shared sets, reported on the other half).
SCORING_MODES = ("nli", "hybrid", "embedding")
DEFAULT_SCORING = "nli"  # exact pipeline semantics
EMBEDDING_TEMPERATURE = 0.05  # softmax(cosine / T) over the labels
HYBRID_NLI_WEIGHT = 1.0  # log p_hybrid = w log p_nli + log p_embedding + const

# Long texts: "truncate" keeps the pipeline's behaviour (the premise is cut to the model's
# window); "max"/"mean" score every window of the text and aggregate per label.
LONG_TEXT_MODES = ("truncate", "max", "mean")
DEFAULT_LONG_TEXT = "truncate"
# Window size per mode, in tokens (None would mean as long as the model allows beside the
# hypothesis). Measured with `make bench-long` (embedded model): "max" at 128 found one on-topic
# sentence at the end of ~650 words in 0.75 of documents (truncation: 0.10; 32: 0.73; 64: 0.68);
# "mean" at 64 took imdb from 0.650 (truncate) to 0.763 (the model's full room: 0.643).
DEFAULT_WINDOW_TOKENS: dict[str, int | None] = {"max": 128, "mean": 64}
