"""How an embedder turns token states into one unit vector per text: the pooling modes of
sentence-transformers' Pooling module that zsc runs, read from a checkpoint at export and
recorded in its manifest (``Manifest.pooling``)."""

from __future__ import annotations

import numpy as np

# "mean": the mean of the real tokens' states; "cls": the first token's; "lasttoken": the last real token's.
POOLING_MODES = ("mean", "cls", "lasttoken")
DEFAULT_POOLING = "mean"


def pool(states: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """(texts, dim) unit vectors from token ``states`` (texts, tokens, dim) and the attention
    ``mask`` (texts, tokens; padding on the right). Always L2-normalised: zsc compares by cosine."""
    if mode == "mean":
        pooled = (states * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    elif mode == "cls":
        pooled = states[:, 0]
    elif mode == "lasttoken":
        pooled = states[np.arange(len(states)), mask.sum(axis=1) - 1]
    else:
        raise ValueError(f"pooling {mode!r} is not one of {POOLING_MODES}")
    pooled = pooled.astype(np.float32)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
