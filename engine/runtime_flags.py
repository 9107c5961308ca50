"""The runtime flags that `zsc classify` and `zsc serve` share (provider, precision, threads,
embedder, batch sizes), declared once and read into one checked LoadOptions."""

from __future__ import annotations

import argparse
from pathlib import Path

from .defaults import PROVIDER_FEEDING
from .graph_choice import PRECISION_CHOICES, PROVIDER_CHOICES
from .load_options import LoadOptions


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=PROVIDER_CHOICES, default="auto",
                        help="onnxruntime execution provider; auto uses CUDA when onnxruntime-gpu offers it and the model "
                             "directory has a graph that suits it (int8 graphs stay on the CPU) (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                        help="which of the model directory's graphs runs; auto: fp16 on CUDA, the 8-bit graph on the CPU "
                             "(default: %(default)s)")
    parser.add_argument("--threads", type=int, help="onnxruntime intra-op threads (default: all cores)")
    parser.add_argument("--embedder", type=Path,
                        help="sentence-embedding model directory (zsc export --task embedding) for --scoring hybrid/embedding and "
                             "--prefilter-top-k (default: the embedded one, with the embedded model)")
    cpu, cuda = PROVIDER_FEEDING["cpu"], PROVIDER_FEEDING["cuda"]
    parser.add_argument("--batch-size", type=int,
                        help=f"pairs per onnxruntime batch (default: {cpu.batch_size} on the CPU, {cuda.batch_size} on CUDA)")
    parser.add_argument("--max-batch-tokens", type=int,
                        help=f"padded tokens per onnxruntime batch, pairs x longest pair, at least one window of the model "
                             f"(default: {cpu.max_batch_tokens} on the CPU, {cuda.max_batch_tokens} on CUDA)")


def load_options(args: argparse.Namespace, batch_size: int | None = None) -> LoadOptions:
    """The runtime flags as one checked value; a count below 1 is refused naming its flag.
    ``batch_size``: a value that stands for --batch-size (serve's deprecated --max-batch-pairs)."""
    batch_size = args.batch_size if batch_size is None else batch_size
    for flag, value in (("--threads", args.threads), ("--batch-size", batch_size), ("--max-batch-tokens", args.max_batch_tokens)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be positive, got {value}")
    return LoadOptions.of(provider=args.provider, precision=args.precision, threads=args.threads, batch_size=batch_size,
                          max_batch_tokens=args.max_batch_tokens)
