"""Feeding: how batches reach one execution provider (the values per provider are in defaults.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Feeding:
    """The batch budget, and the GPU-side feeding."""

    batch_size: int  # pairs per onnxruntime run
    max_batch_tokens: int  # padded tokens per run: keeps memory flat whatever the text lengths
    pad_multiple: int  # pad each batch's length up to a multiple of this: fewer distinct shapes
    io_binding: bool  # bind inputs and the output buffer before the run instead of session.run
    prefetch: bool  # assemble the next batch on a worker thread while this one runs

    def with_sizes(self, batch_size: int | None, max_batch_tokens: int | None) -> Feeding:
        """This feeding with the batch sizes a caller gave (None keeps the provider's)."""
        return replace(self, batch_size=self.batch_size if batch_size is None else batch_size,
                       max_batch_tokens=self.max_batch_tokens if max_batch_tokens is None else max_batch_tokens)
