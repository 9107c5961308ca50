"""Ray Data adapter: classify a ``ray.data.Dataset`` on every node of a Ray cluster.

    import ray
    from zsc.engine.ray_data import classify_dataset

    ds = ray.data.read_parquet("s3://bucket/texts/")
    classify_dataset(ds, ["world", "sports", "business"]).write_parquet("s3://bucket/out/")

Each Ray actor loads the model once and classifies batches of rows with the in-process engine,
so the scores are the engine's. Needs ``pip install 'zsc-onnx[ray]'``; this module is the only one
that imports Ray or pyarrow.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .defaults import DEFAULT_LONG_TEXT, DEFAULT_PREFILTER_TOP_K, DEFAULT_SCORING, DEFAULT_TEMPLATE
from .inputs import InputError, InputTypeError, job_labels, normalise_labels
from .load_options import LoadOptions
from .options import CallOptions
from .table_files import check_output, input_paths

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

logger = logging.getLogger("zsc.ray")

LABELS_COLUMN, SCORES_COLUMN = "labels", "scores"
READERS = {".parquet": "read_parquet", ".jsonl": "read_json", ".json": "read_json", ".csv": "read_csv"}


class ZeroShotBatches:
    """The callable class each Ray actor runs: load the model once, then classify Arrow batches,
    each row against the dataset's labels or its own (``labels_column``).

    Its onnxruntime threads are the CPUs Ray gave the actor: Ray sets OMP_NUM_THREADS, which
    onnxruntime does not read (ray#28044), so without this every actor would use every core.
    """

    def __init__(self, model: str | None, labels: list[str] | None, options: CallOptions, text_column: str, loading: LoadOptions,
                 embedder: str | Path | None = None, labels_column: str | None = None) -> None:
        import ray

        from .classifier import ZeroShotClassifier

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
        load = replace(loading, threads=max(1, int(cpus)))
        self.classifier = ZeroShotClassifier.named(model, load, embedder)
        self.labels, self.options, self.text_column, self.labels_column = labels, options, text_column, labels_column

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        for column in (self.text_column, self.labels_column):
            if column is not None and column not in batch.column_names:
                raise InputError(f"no column {column!r} in the dataset (columns: {batch.column_names})")
        texts = batch.column(self.text_column).to_pylist()
        labels: list[str] | list[list[str]] = self.labels or []
        if self.labels_column is not None:  # a list of labels, or one comma-separated string, per row
            labels = [value if isinstance(value, list) else normalise_labels(value) for value in batch.column(self.labels_column).to_pylist()]
            batch = batch.drop_columns([self.labels_column]) if self.labels_column == LABELS_COLUMN else batch
        results = self.classifier(texts, labels, options=self.options, legacy=True) if texts else []
        ranked = pa.array([r["labels"] for r in results], type=pa.list_(pa.string()))
        scores = pa.array([r["scores"] for r in results], type=pa.list_(pa.float64()))
        return batch.append_column(LABELS_COLUMN, ranked).append_column(SCORES_COLUMN, scores)


def classify_dataset(
    ds: ray.data.Dataset,
    candidate_labels: str | Sequence[str] | None = None,
    *,
    labels_column: str | None = None,
    text_column: str = "text",
    model: str | Path | None = None,
    hypothesis_template: str = DEFAULT_TEMPLATE,
    multi_label: bool = False,
    batch_size: int = 256,
    concurrency: int | tuple[int, int] | None = None,
    num_cpus: float | None = None,
    num_gpus: float = 0,
    pairs_per_batch: int | None = None,
    scoring: str = DEFAULT_SCORING,
    prefilter_top_k: int | str | None = DEFAULT_PREFILTER_TOP_K,
    long_text: str = DEFAULT_LONG_TEXT,
    window_tokens: int | None = None,
    options: CallOptions | None = None,
    **classifier_kwargs: Any,
) -> ray.data.Dataset:
    """The rows of ``ds`` with two columns added: ``labels`` (ranked) and ``scores``, as the engine
    computes them (its legacy shape, one row per text).

    ``candidate_labels``: the labels of every row; or ``labels_column``: the column holding each
    row's own (a list, or a comma-separated string; a column named ``labels`` is replaced by the
    ranked labels). ``model``: an exported model directory every node can read, a hub id, or None
    for the embedded default. ``batch_size``: rows per batch handed to an actor. ``concurrency``:
    actors (an int, or (min, max) to autoscale; default: autoscale from 1). ``num_cpus``/
    ``num_gpus``: per actor; onnxruntime gets the actor's CPUs as threads, and the CUDA provider
    when ``num_gpus > 0``. ``pairs_per_batch``: pairs per onnxruntime run (the engine's batch size).
    ``hypothesis_template``, ``multi_label``, ``scoring``, ``prefilter_top_k``, ``long_text`` and
    ``window_tokens`` as for ``ZeroShotClassifier.__call__``, or all of them as ``options``.
    Other keyword arguments go to ``ZeroShotClassifier.from_pretrained`` (``max_batch_tokens``, ...).
    Lazy, like every Ray Data transform: nothing runs until the dataset is consumed or written.
    Bad labels, template or sizes raise a ValueError here, before any work is scheduled.
    """
    from ray.data import ActorPoolStrategy

    named = {"hypothesis_template": hypothesis_template, "multi_label": multi_label, "scoring": scoring,
             "prefilter_top_k": prefilter_top_k, "long_text": long_text, "window_tokens": window_tokens}
    if options is not None and CallOptions.of(**named) != CallOptions():
        raise InputError("give options= or the option keyword arguments, not both")
    options = options if options is not None else CallOptions.of(**named)
    labels = job_labels(candidate_labels, labels_column, options.hypothesis_template)
    for name, column in (("text_column", text_column), ("labels_column", labels_column or "-")):
        if not isinstance(column, str) or not column:
            raise InputTypeError(f"{name} must be a column name")
    if batch_size < 1:
        raise InputError(f"batch_size must be positive, got {batch_size}")
    if {"provider", "threads", "batch_size", "options"} & set(classifier_kwargs):
        raise InputError("on Ray, provider and threads follow num_gpus and num_cpus, and the engine's batch size is "
                         "pairs_per_batch (batch_size is rows per Ray batch); pass those instead")
    embedder = classifier_kwargs.pop("embedder", None)
    loading = LoadOptions.of(provider="cuda" if num_gpus else "cpu", batch_size=pairs_per_batch, **classifier_kwargs)
    if isinstance(concurrency, tuple):
        compute = ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
    else:
        compute = ActorPoolStrategy(size=concurrency) if concurrency else ActorPoolStrategy(min_size=1, max_size=None)
    return ds.map_batches(
        ZeroShotBatches,
        fn_constructor_kwargs={
            "model": str(model) if model is not None else None, "labels": labels, "options": options,
            "text_column": text_column, "loading": loading, "embedder": embedder,
            "labels_column": labels_column,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=compute,
        num_cpus=num_cpus,
        num_gpus=num_gpus or None,
    )


def read_files(pattern: str) -> ray.data.Dataset:
    """A dataset from JSONL, CSV or Parquet files (a path, a folder or a glob), by their suffix."""
    import ray.data

    paths, suffix = input_paths(pattern)
    # Reading is I/O and parsing: it asks for no CPU, so actors holding every CPU of a node (one
    # actor x all cores) cannot starve their own input (the job would wait forever).
    return getattr(ray.data, READERS[suffix])(paths, num_cpus=0)


def write_files(ds: ray.data.Dataset, output: Path, output_format: str) -> None:
    """Write the dataset into the folder ``output`` through Ray's writers (one file per block)."""
    check_output(output, output_format)
    io_only = {"num_cpus": 0}  # as for reading: writers must not wait for the actors' CPUs
    if output_format == "jsonl":
        # pandas writes JSON floats with 10 digits unless told; 15 is its most (scores to ~1e-15).
        ds.write_json(str(output), double_precision=15, ray_remote_args=io_only)
    else:
        ds.write_parquet(str(output), ray_remote_args=io_only)
