"""Spark adapter: classify a column of a Spark DataFrame, in Spark's own idiom (a pandas UDF).

    from pyspark.sql import SparkSession
    from zsc.engine.spark import classify_column

    df = spark.read.parquet("texts/")
    classify_column(df, ["world", "sports", "business"]).write.parquet("labelled/")

Each Python worker loads the model once (a per-process cache: Spark reuses its Python workers
across tasks) and classifies Arrow batches with the in-process engine, so the scores are the
engine's. A model directory reaches the executors through ``SparkContext.addFile`` (no shared
filesystem needed); the embedded default is inside every executor's install; a hub id is fetched
by each executor. Rows that cannot be classified (a null text, an empty label list) get their
reason in ``zsc_error`` instead of failing the job. Needs ``pip install 'zsc-onnx[cpu,spark]'``;
this module is the only one that imports pyspark or pandas.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd  # at module level: pandas UDFs read their type hints at run time

from .inputs import InputError, hypotheses_for, job_labels, normalise_labels, unusable_text
from .load_options import LoadOptions
from .loading import looks_like_hub_id
from .options import CallOptions
from .table_files import input_paths

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from .classifier import ZeroShotClassifier

# The columns added, whatever the data: filterable top label and score, the full ranking, and why
# a row was not classified (null when it was).
RESULT_COLUMNS = ("zsc_label", "zsc_score", "zsc_ranking", "zsc_error")
RESULT_TYPE = "label string, score double, ranking array<struct<label: string, score: double>>, error string"


@dataclass(frozen=True)
class ModelRef:
    """How an executor finds the model: None (the embedded default), a name shipped with
    ``SparkContext.addFile`` (``shipped``), or a hub id."""

    name: str | None = None
    shipped: bool = False

    def resolve(self) -> str | None:
        if not self.shipped:
            return self.name
        from pyspark import SparkFiles

        path = Path(SparkFiles.get(str(self.name)))
        if not path.is_dir():
            raise FileNotFoundError(f"the model directory {self.name!r} is missing on this executor (looked in {path}): pass it "
                                    "as classify_column(model=DIR), which ships it with SparkContext.addFile, or install it at "
                                    "the same path on every node")
        return str(path)


@dataclass(frozen=True)
class Models:
    """What an executor loads: the NLI model and, where one was given, the embedder (None: the
    model's own way, which for the embedded default is its embedded embedder)."""

    model: ModelRef = ModelRef()
    embedder: ModelRef | None = None


_LOADED: dict[tuple[Models, LoadOptions], ZeroShotClassifier] = {}  # per Python worker process


def _classifier(models: Models, loading: LoadOptions) -> ZeroShotClassifier:
    from .classifier import ZeroShotClassifier

    key = (models, loading)
    if key not in _LOADED:
        _LOADED[key] = ZeroShotClassifier.named(models.model.resolve(), loading,
                                                None if models.embedder is None else models.embedder.resolve())
    return _LOADED[key]


def classify_column(
    df: DataFrame,
    candidate_labels: str | Sequence[str] | None = None,
    *,
    text_column: str = "text",
    labels_column: str | None = None,
    model: str | Path | None = None,
    embedder: str | Path | None = None,
    options: CallOptions = CallOptions(),
    precision: str = "auto",
    threads: int = 1,
    pairs_per_batch: int | None = None,
    max_batch_tokens: int | None = None,
) -> DataFrame:
    """``df`` with ``zsc_label``, ``zsc_score``, ``zsc_ranking`` (an array of {label, score}, best
    first) and ``zsc_error`` added. ``candidate_labels``: every row's labels; or ``labels_column``:
    a column holding each row's own (an array of strings, or one comma-separated string).
    ``model``: a model directory on the driver (shipped to the executors), a hub id, or None for
    the embedded default; ``embedder``: a sentence-embedding model given the same way, for hybrid
    scoring and prefiltering (None: the embedded default's own, none for another model).
    ``threads``: onnxruntime threads per Python worker (Spark runs one worker per task slot);
    ``precision``, ``pairs_per_batch`` and ``max_batch_tokens`` as for ``from_pretrained``. Lazy,
    like any transform: nothing runs until the result is used. Bad labels, options or columns
    raise a ValueError here, before any work is scheduled."""
    from pyspark.sql import functions as F

    labels = job_labels(candidate_labels, labels_column, options.hypothesis_template)
    for column in (text_column, labels_column):
        if column is not None and column not in df.columns:
            raise InputError(f"no column {column!r} in the DataFrame (columns: {df.columns})")
    if threads < 1 or any(size is not None and size < 1 for size in (pairs_per_batch, max_batch_tokens)):
        raise InputError("threads, pairs_per_batch and max_batch_tokens must be positive")
    loading = LoadOptions.of(provider="cpu", precision=precision, threads=threads, batch_size=pairs_per_batch,
                             max_batch_tokens=max_batch_tokens)
    folders = [Path(p).expanduser().resolve() for p in (model, embedder) if p is not None and Path(p).expanduser().is_dir()]
    if len(folders) == 2 and folders[0] != folders[1] and folders[0].name == folders[1].name:
        raise InputError(f"the model and the embedder are folders of one name ({folders[0].name!r}); Spark ships files by "
                         "name, so rename one")
    models = Models(_ship(df.sparkSession, model), None if embedder is None else _ship(df.sparkSession, embedder))
    function = _row_labels_udf(models, loading, options) if labels is None else _fixed_labels_udf(models, loading, options, labels)
    udf = F.pandas_udf(function, RESULT_TYPE)  # type: ignore[call-overload]  # typed by the function's hints, as Spark reads them
    arguments = [F.col(text_column)] + ([F.col(labels_column)] if labels_column is not None else [])
    result = df.withColumn("__zsc", udf(*arguments))
    return result.select(*[F.col(f"`{c}`") for c in df.columns], *[F.col(f"__zsc.{field}").alias(name) for field, name in
                                                                   zip(("label", "score", "ranking", "error"), RESULT_COLUMNS)])


def _ship(spark: SparkSession, model: str | Path | None) -> ModelRef:
    if model is None:
        return ModelRef()
    local = Path(model).expanduser()
    if local.is_dir():
        spark.sparkContext.addFile(str(local.resolve()), recursive=True)
        return ModelRef(local.resolve().name, shipped=True)
    if looks_like_hub_id(str(model)):
        return ModelRef(str(model))
    raise FileNotFoundError(f"model directory not found: {local}")


def _fixed_labels_udf(models: Models, loading: LoadOptions, options: CallOptions, labels: list[str]) -> Any:
    def classify(texts: pd.Series) -> pd.DataFrame:
        return classified(_classifier(models, loading), list(texts), [labels] * len(texts), options)

    return classify


def _row_labels_udf(models: Models, loading: LoadOptions, options: CallOptions) -> Any:
    def classify(texts: pd.Series, row_labels: pd.Series) -> pd.DataFrame:
        return classified(_classifier(models, loading), list(texts), [_labels_of(value) for value in row_labels], options)

    return classify


def _labels_of(value: Any) -> list[str] | str:
    """A row's labels: an array of strings or one comma-separated string; the reason otherwise."""
    if value is None or (isinstance(value, float) and value != value):
        return "the labels are null"
    try:
        labels = normalise_labels(value if isinstance(value, str) else [str(v) for v in value])
    except (InputError, TypeError) as exc:
        return f"labels: {exc}"
    return labels or "the label list is empty"


def classified(classifier: ZeroShotClassifier, texts: list[Any], label_sets: list[list[str] | str], options: CallOptions
               ) -> pd.DataFrame:
    """One batch: each row ranked (its rows as the engine ranks them, alone or together), or its
    reason in ``error``."""
    errors: list[str | None] = [_problem(text, labels, options) for text, labels in zip(texts, label_sets)]
    good = [i for i, error in enumerate(errors) if error is None]
    rankings: dict[int, Any] = {}
    if good:
        try:
            results = classifier([texts[i] for i in good], [label_sets[i] for i in good], options=options)
            rankings = dict(zip(good, results))
        except InputError:  # something the checks above did not foresee: find the row, keep the others
            for i in good:
                try:
                    rankings[i] = classifier([texts[i]], [label_sets[i]], options=options)[0]
                except InputError as exc:
                    errors[i] = str(exc)
    return pd.DataFrame({
        "label": [rankings[i][0]["label"] if i in rankings else None for i in range(len(texts))],
        "score": [rankings[i][0]["score"] if i in rankings else None for i in range(len(texts))],
        "ranking": [rankings.get(i) for i in range(len(texts))],
        "error": errors,
    })


def _problem(text: Any, labels: list[str] | str, options: CallOptions) -> str | None:
    if text is None or (isinstance(text, float) and text != text):
        return "the text is null"
    if not isinstance(text, str):
        return f"the text must be a string, got {type(text).__name__}"
    if (problem := unusable_text(text)) is not None:
        return f"the text {problem}"
    if isinstance(labels, str):
        return labels
    try:
        hypotheses_for(labels, options.hypothesis_template)
    except InputError as exc:
        return str(exc)
    return None


def local_session(master: str = "local[*]", app_name: str = "zsc") -> SparkSession:
    """A Spark session whose Python workers run this interpreter (so they import this zsc)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers' interpreter, inherited through the JVM
    return (SparkSession.builder.master(master).appName(app_name).config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable).config("spark.ui.enabled", "false").getOrCreate())


READERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def read_files(spark: SparkSession, pattern: str) -> DataFrame:
    """A DataFrame from JSONL, CSV (with a header) or Parquet files: a path, a folder or a glob."""
    paths, suffix = input_paths(pattern)
    kind = READERS[suffix]
    reader = spark.read.option("header", "true") if kind == "csv" else spark.read
    return getattr(reader, kind)(paths)


def write_files(df: DataFrame, output: Path, output_format: str) -> None:
    """Write the classified rows into the folder ``output``: Parquet, or JSON lines."""
    writer = df.write.mode("errorifexists")
    if output_format == "jsonl":
        writer.json(str(output))
    else:
        writer.parquet(str(output))
