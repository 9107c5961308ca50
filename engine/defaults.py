"""Runtime defaults defined once: the classifier, the CLI and the server import them from here."""

from __future__ import annotations

DEFAULT_BATCH_SIZE = 16  # pairs per onnxruntime batch on CPU (measured: larger batches pad more)
DEFAULT_BATCH_TOKENS = 2048  # padded tokens per batch: keeps memory flat whatever the text lengths
