"""LoadOptions: how a model is loaded (where it runs, which graph, threads, batch budget,
verification), as one checked, frozen value.

``from_pretrained`` builds it from its keyword arguments; the CLI, the server, Ray and Spark build
it once from their own flags or arguments and pass it whole (``options=``), as they do
``CallOptions`` for a call. The checks are here and nowhere else.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from .feeding import Feeding
from .graph_choice import check_choices
from .options import count_option


@dataclass(frozen=True)
class LoadOptions:
    """``provider``: "auto" (CUDA when available and the directory has a graph suited to it, else
    CPU), "cpu" or "cuda". ``precision``: which of the directory's graphs runs ("auto": fp16 on
    CUDA, the 8-bit graph on the CPU). ``threads``: onnxruntime intra-op threads (None: the CPUs
    this process may use). ``batch_size`` / ``max_batch_tokens``: pairs and padded tokens per
    onnxruntime run (None: the provider's, ``defaults.PROVIDER_FEEDING``, as is ``feeding``).
    ``verify``: check the files against the manifest's sha256 hashes. ``revision``: a hub id's
    branch, tag or commit."""

    provider: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    batch_size: int | None = None
    max_batch_tokens: int | None = None
    verify: bool = True
    revision: str | None = None
    feeding: Feeding | None = None

    @classmethod
    def of(cls, provider: object = "auto", precision: object = "auto", threads: object = None, batch_size: object = None,
           max_batch_tokens: object = None, verify: object = True, revision: object = None, feeding: object = None) -> LoadOptions:
        """Check each option; a ValueError (TypeError for a wrong type) names the problem."""
        check_choices(provider, precision)
        if not isinstance(verify, bool):
            raise TypeError(f"verify must be a boolean, got {type(verify).__name__}")
        if revision is not None and (not isinstance(revision, str) or not revision.strip()):
            raise ValueError(f"revision must be a branch, tag or commit name, got {revision!r}")
        if feeding is not None and not isinstance(feeding, Feeding):
            raise TypeError(f"feeding must be a Feeding, got {type(feeding).__name__}")
        return cls(str(provider), str(precision), _size(threads, "threads"), _size(batch_size, "batch_size"),
                   _size(max_batch_tokens, "max_batch_tokens"), verify, revision, feeding)

    def for_embedder(self, compute_type: str) -> LoadOptions:
        """How a classifier loads its embedder: the same threads and feeding; an int8 embedder
        stays on the CPU when the NLI model runs on CUDA ("auto"), and its own precision is "auto"."""
        return LoadOptions(provider="cpu" if compute_type == "cpu" else "auto", threads=self.threads, feeding=self.feeding)


def given_once(options: LoadOptions | None, keywords: LoadOptions) -> LoadOptions:
    """``options`` if given, else the options the keyword arguments built; both is a TypeError."""
    if options is None:
        return keywords
    if not isinstance(options, LoadOptions):
        raise TypeError(f"options must be a LoadOptions, got {type(options).__name__}")
    if keywords != LoadOptions():
        raise TypeError("give options= or the loading keyword arguments, not both")
    return options


def _size(value: object, name: str) -> int | None:
    """None or a whole number of at least 1; below 1 says "must be positive", as the server's and
    Ray's size options do (a wrong type is count_option's TypeError)."""
    if value is not None and not isinstance(value, bool) and isinstance(value, numbers.Integral) and value < 1:
        raise ValueError(f"{name} must be positive, got {value}")
    return count_option(value, name, 1)
