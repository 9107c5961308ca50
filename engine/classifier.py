"""ZeroShotClassifier: the public runtime API.

Its surface: ``from_pretrained`` / ``default`` / ``from_graph`` to load; ``__call__`` to classify
(what most users need); ``prepare`` → ``logits`` → ``finish``, the same call in three steps, so a
server can merge the pairs of several calls into shared batches; ``nli_logits`` for raw NLI
logits of (premise, hypothesis) pairs (validation, calibration, benchmarks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

import numpy as np

from .batching import BatchBudget
from .cpu import has_int8_dot_products
from .defaults import (
    DEFAULT_LONG_TEXT,
    DEFAULT_SCORING,
    DEFAULT_WINDOW_TOKENS,
    EMBEDDING_TEMPERATURE,
    HYBRID_NLI_WEIGHT,
    LONG_TEXT_MAX_TOKENS,
    MULTI_LABEL_NLI_WEIGHT,
    MULTI_LABEL_TEMPERATURE,
    PROVIDER_FEEDING,
    Feeding,
)
from .encoding import PairEncoder, PairSet
from .feeding import Prefetcher
from .inputs import (
    DEFAULT_TEMPLATE,
    NO_LABEL_OR_SEQUENCE,
    InputError,
    check_call_options,
    hypotheses_for,
    normalise_labels,
    normalise_texts,
    resolved_scoring,
)
from .model_dir import MANIFEST_NAME, GraphVariant, Manifest, ModelDirectory, load_model_directory
from .scoring import (
    embedding_scores,
    hybrid_scores,
    label_scores,
    multi_label_embedding_scores,
    multi_label_hybrid_scores,
    ranking,
    relative_similarity,
)
from .session import SessionInfo, open_session, run_logits

if TYPE_CHECKING:
    from .embedding import TextEmbedder

logger = logging.getLogger("zsc")



class Prediction(TypedDict):
    """One label's score; a call returns them ranked, highest first."""

    label: str
    score: float


class LegacyPrediction(TypedDict):
    """transformers' older result shape, for one text."""

    sequence: str
    labels: list[str]
    scores: list[float]


@dataclass
class PreparedCall:
    """A validated, tokenised call (from ``prepare``), ready for ``logits`` and ``finish``.

    ``pairs`` holds every text x label pair, text-major, or with a prefilter the ``selection[i]``
    labels of text i only (none with scoring "embedding"); pairs of several calls may be merged,
    computed together and split again, since no pair's logits depend on its batch-mates.
    ``similarity`` (texts, labels) holds text-label cosines where the embedder was used. With
    ``long_text`` "max"/"mean" each text runs as ``windows[i]`` windows x its labels.
    """

    texts: list[str]
    labels: list[str]
    multi_label: bool
    single_text: bool
    pairs: PairSet
    scoring: str = DEFAULT_SCORING
    selection: np.ndarray | None = None
    similarity: np.ndarray | None = None
    long_text: str = DEFAULT_LONG_TEXT
    windows: list[int] | None = None  # windows per text ("max"/"mean"); pairs run window-major per text


class ZeroShotClassifier:
    """Zero-shot text classification with an exported NLI model on onnxruntime.

    Scores follow transformers' ZeroShotClassificationPipeline exactly (same template, label
    parsing, normalisation and ranking); an fp32 export gives the pipeline's scores to 1e-5.
    A text's scores never depend on the other texts in a call or on ``batch_size``.

    >>> clf = ZeroShotClassifier.default()
    >>> clf("I want my money back", ["refund", "legal", "faq"])[0]["label"]
    'faq'

    Bad input raises :class:`~zsc.engine.inputs.InputError` (a ValueError); wrong types raise
    :class:`~zsc.engine.inputs.InputTypeError`, also a TypeError.
    """

    def __init__(
        self,
        model_dir: ModelDirectory,
        session: SessionInfo,
        encoder: PairEncoder,
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
        embedder: TextEmbedder | str | Path | None = None,
        feeding: Feeding | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.session = session
        self.encoder = encoder
        # The provider's feeding (batch budget, length buckets, I/O binding, prefetch), with the
        # batch sizes the caller gave.
        self.feeding = (feeding or PROVIDER_FEEDING[session.compute_type]).with_sizes(batch_size, max_batch_tokens)
        self.budget = BatchBudget.for_model(self.feeding, encoder.max_length)
        self._prefetcher = Prefetcher() if self.feeding.prefetch else None
        manifest = model_dir.manifest
        self.entailment_id = manifest.entailment_id
        self.contradiction_id = manifest.contradiction_id
        # The embedder (prefilter, hybrid and embedding scoring) loads on first use: exact NLI
        # calls never pay for it.
        self._embedder: TextEmbedder | str | Path | None = embedder
        self._embedder_lock = threading.Lock()
        # Same threads; an int8 embedder stays on the CPU when the NLI model runs on CUDA ("auto").
        self._embedder_options = {"provider": "cpu" if session.compute_type == "cpu" else "auto",
                                  "threads": session.session.get_session_options().intra_op_num_threads}

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        provider: str = "auto",
        threads: int | None = None,
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
        verify: bool = True,
        embedder: TextEmbedder | str | Path | None = None,
        precision: str = "auto",
        feeding: Feeding | None = None,
    ) -> ZeroShotClassifier:
        """Load an exported model directory, or a hub repo id ("org/name") holding one.

        ``provider``: "auto" (CUDA when available and the directory has a graph suited to it,
        else CPU), "cpu" or "cuda". ``precision``: which of the directory's graphs runs: "auto"
        (fp16 on CUDA, the 8-bit graph on the CPU), "int8", "int8-dynamic", "fp16" or "fp32";
        ``clf.precision`` and ``clf.compute_type`` say what was chosen, and the log says why.
        ``threads``: onnxruntime intra-op threads (default: the CPUs this process may use).
        ``batch_size`` and ``max_batch_tokens`` bound each onnxruntime batch (pairs, and padded
        tokens); by default the provider's (``zsc.engine.defaults.PROVIDER_FEEDING``), as is
        ``feeding``. ``verify`` checks the files against the manifest's sha256 hashes.
        A path-like name that does not exist raises FileNotFoundError, never a hub lookup.
        ``embedder``: a sentence-embedding model directory (``zsc export --task embedding``) or a
        TextEmbedder, for ``scoring="hybrid"|"embedding"`` and ``prefilter_top_k``; loaded on first use.
        """
        local = Path(path).expanduser()
        if not local.exists():
            if not _looks_like_hub_id(str(path)):
                raise FileNotFoundError(f"model directory not found: {local}")
            local = _download(str(path))
        model_dir = load_model_directory(local, verify=verify)
        return cls._open(model_dir, model_dir.manifest.graphs(), provider, precision, threads, batch_size, max_batch_tokens,
                         embedder, feeding)

    @classmethod
    def default(cls, **kwargs: Any) -> ZeroShotClassifier:
        """The embedded per-row int8 model (minilm-l6-nli), shipped inside the package with its
        embedder (all-MiniLM-L6-v2, int8); no network.

        Takes the keyword arguments of ``from_pretrained``."""
        kwargs.setdefault("embedder", default_embedder_path())
        return cls.from_pretrained(default_model_path(), **kwargs)

    @classmethod
    def from_graph(
        cls,
        graph: str | Path,
        tokenizer: str | Path,
        manifest: Manifest,
        provider: str = "cpu",
        threads: int | None = None,
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
    ) -> ZeroShotClassifier:
        """A classifier over one graph (of ``manifest.precision``), a tokenizer and a manifest: the
        ones the exporter checks and calibrates before it writes a directory."""
        graph = Path(graph)
        directory = ModelDirectory(graph.parent, replace(manifest, model_file=graph.name, variants=[]))
        return cls._open(directory, [GraphVariant(manifest.precision, graph.name)], provider, "auto", threads, batch_size,
                         max_batch_tokens, None, None, tokenizer)

    @classmethod
    def _open(cls, model_dir: ModelDirectory, graphs: list[GraphVariant], provider: str, precision: str, threads: int | None,
              batch_size: int | None, max_batch_tokens: int | None, embedder: TextEmbedder | str | Path | None,
              feeding: Feeding | None, tokenizer: str | Path | None = None) -> ZeroShotClassifier:
        manifest = model_dir.manifest
        if manifest.task != "nli":
            raise ValueError(f"{model_dir.path} holds a model for task {manifest.task!r}; the classifier needs an NLI model "
                             "(an embedder goes in embedder=)")
        encoder = PairEncoder.from_file(tokenizer or model_dir.tokenizer_path, manifest.max_length, manifest.pad_token_id)
        session = open_session(model_dir.path, graphs, provider, precision, threads, num_labels=len(manifest.id2label))
        if manifest.input_names and set(manifest.input_names) != set(session.input_names):
            raise ValueError(
                f"{model_dir.path}: {MANIFEST_NAME} lists inputs {manifest.input_names} but the graph takes "
                f"{list(session.input_names)}; the manifest does not describe this graph"
            )
        warn_if_int8_saturates(session.precision, manifest.quantization_preset, session.compute_type)
        return cls(model_dir, session, encoder, batch_size, max_batch_tokens, embedder, feeding)

    @property
    def compute_type(self) -> str:
        """Where the model runs: "cpu" or "cuda"."""
        return self.session.compute_type

    @property
    def precision(self) -> str:
        """The running graph's precision: "int8", "int8-dynamic", "fp16", "fp32" or "unknown"."""
        return self.session.precision

    @property
    def embedder(self) -> TextEmbedder:
        """The sentence embedder behind prefiltering and hybrid scoring (loaded on first use)."""
        from .embedding import TextEmbedder

        with self._embedder_lock:
            if self._embedder is None:
                raise InputError(
                    "this classifier has no embedder, which scoring='hybrid'/'embedding' and prefilter_top_k need; "
                    "pass embedder=<model directory from `zsc export --task embedding`> to from_pretrained"
                )
            if not isinstance(self._embedder, TextEmbedder):
                self._embedder = TextEmbedder.from_pretrained(self._embedder, **self._embedder_options)
            return self._embedder

    # str is a Sequence[str] too: the str overloads come first and win (as in typeshed).
    @overload
    def __call__(self, inputs: str, candidate_labels: str | Iterable[str], hypothesis_template: str = ...,  # type: ignore[overload-overlap]
                 multi_label: bool = ..., legacy: Literal[False] = ..., *, scoring: str = ...,
                 prefilter_top_k: int | None = ..., long_text: str = ..., window_tokens: int | None = ...) -> list[Prediction]: ...

    @overload
    def __call__(self, inputs: Iterable[str], candidate_labels: str | Iterable[str], hypothesis_template: str = ...,
                 multi_label: bool = ..., legacy: Literal[False] = ..., *, scoring: str = ...,
                 prefilter_top_k: int | None = ..., long_text: str = ..., window_tokens: int | None = ...) -> list[list[Prediction]]: ...

    @overload
    def __call__(self, inputs: str, candidate_labels: str | Iterable[str], hypothesis_template: str = ...,  # type: ignore[overload-overlap]
                 multi_label: bool = ..., *, legacy: Literal[True], scoring: str = ...,
                 prefilter_top_k: int | None = ..., long_text: str = ..., window_tokens: int | None = ...) -> LegacyPrediction: ...

    @overload
    def __call__(self, inputs: Iterable[str], candidate_labels: str | Iterable[str], hypothesis_template: str = ...,
                 multi_label: bool = ..., *, legacy: Literal[True], scoring: str = ...,
                 prefilter_top_k: int | None = ..., long_text: str = ..., window_tokens: int | None = ...) -> list[LegacyPrediction]: ...

    def __call__(
        self,
        inputs: str | Iterable[str],
        candidate_labels: str | Iterable[str],
        hypothesis_template: str = DEFAULT_TEMPLATE,
        multi_label: bool = False,
        legacy: bool = False,
        *,
        scoring: str = DEFAULT_SCORING,
        prefilter_top_k: int | None = None,
        long_text: str = DEFAULT_LONG_TEXT,
        window_tokens: int | None = None,
    ) -> Any:
        """Classify one text (a ranked list of {label, score}) or a list of texts (a list of such lists).

        ``candidate_labels``: a list, or one comma-separated string. ``hypothesis_template``:
        where ``{}`` stands for the label. ``multi_label``: score each label on its own
        (entailment against contradiction) instead of a softmax over the labels.
        ``legacy=True`` returns transformers' older shape {sequence, labels, scores} instead.

        Beyond the pipeline (both need the embedder): ``scoring="hybrid"`` multiplies the NLI
        distribution with the embedding one (text-label cosine), ``"embedding"`` uses the latter
        alone (no NLI pass); with ``multi_label=True`` each label is scored on its own against a
        baseline from the call (its cosine minus the mean of the other labels').
        ``prefilter_top_k=K`` runs NLI only on the K labels most similar to each text; the others
        follow with score 0.0, in order of similarity.
        ``scoring="auto"`` (the default) is exact NLI, the pipeline, unless a prefilter narrows a
        single-label call's labels: then the hybrid ranks the K (exact NLI on the K alone ranks
        worse than the embedding that chose them). ``"nli"`` is always the pipeline.
        ``long_text="max"|"mean"``: instead of truncating a long text (the pipeline's behaviour),
        cut its first ``LONG_TEXT_MAX_TOKENS`` tokens into windows of ``window_tokens`` tokens at
        sentence ends (default per mode: ``DEFAULT_WINDOW_TOKENS``, both in ``zsc.engine.defaults``),
        score every window against every label, and take per label the logits of its best window
        (max) or their mean before normalising.
        ``inputs`` may be any iterable of strings (list, tuple, numpy array, pandas Series,
        generator), as for the pipeline; several texts give a list of results.
        """
        prepared = self.prepare(inputs, candidate_labels, hypothesis_template, multi_label, scoring=scoring,
                                prefilter_top_k=prefilter_top_k, long_text=long_text, window_tokens=window_tokens)
        return self.finish(prepared, self.logits(prepared.pairs), legacy=legacy)

    def nli_logits(self, premises: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        """Raw NLI logits, shape (pairs, classes), one row per (premise, hypothesis) position.

        Class order is the model's ``id2label``; the premise is truncated as the pipeline does.
        """
        return self.logits(self.encoder.zipped_pairs(list(premises), list(hypotheses)))

    def prepare(
        self,
        inputs: str | Iterable[str],
        candidate_labels: str | Iterable[str],
        hypothesis_template: str = DEFAULT_TEMPLATE,
        multi_label: bool = False,
        *,
        scoring: str = DEFAULT_SCORING,
        prefilter_top_k: int | None = None,
        long_text: str = DEFAULT_LONG_TEXT,
        window_tokens: int | None = None,
    ) -> PreparedCall:
        """Validate and tokenise a call (every check of ``__call__``), without running the NLI model
        (the embedder runs here when the call needs it)."""
        texts, single = normalise_texts(inputs)
        labels = normalise_labels(candidate_labels)
        if not labels or not texts:
            raise InputError(NO_LABEL_OR_SEQUENCE)
        options = check_call_options(multi_label, scoring, prefilter_top_k, long_text, window_tokens)
        multi_label, scoring, prefilter_top_k = options.multi_label, resolved_scoring(options, len(labels)), options.prefilter_top_k
        hypotheses = hypotheses_for(labels, hypothesis_template)
        similarity = selection = None
        if scoring != "nli" or (prefilter_top_k is not None and prefilter_top_k < len(labels)):
            embedder = self.embedder
            similarity = embedder.embed(texts) @ embedder.embed(labels).T
        if scoring == "embedding":
            return PreparedCall(texts, labels, multi_label, single, PairSet([], []), scoring, None, similarity)
        if prefilter_top_k is not None and prefilter_top_k < len(labels) and similarity is not None:
            # The K most similar labels per text, most similar first (a stable order for ties).
            selection = np.argsort(-similarity, axis=1, kind="stable")[:, :prefilter_top_k]
        if options.long_text == "truncate":
            pairs = self.encoder.pairs(texts, hypotheses, labels, selection)
            return PreparedCall(texts, labels, multi_label, single, pairs, scoring, selection, similarity)
        # Windows are premises like any other: their pairs join the same length-sorted batches.
        room = self.encoder.max_length - self.encoder.layout.num_special - max(map(len, self.encoder.encode_hypotheses(hypotheses)))
        size = min(options.window_tokens or DEFAULT_WINDOW_TOKENS[options.long_text] or room, room)
        premises = self.encoder.windows(texts, max(1, size), LONG_TEXT_MAX_TOKENS)
        pairs = self.encoder.pairs_of(premises, hypotheses, labels, selection)
        return PreparedCall(texts, labels, multi_label, single, pairs, scoring, selection, similarity, options.long_text,
                            [len(w) for w in premises])

    @property
    def batch_size(self) -> int:
        return self.budget.max_batch_size

    @property
    def max_batch_tokens(self) -> int:
        return self.budget.max_batch_tokens

    def logits(self, pairs: PairSet) -> np.ndarray:
        """Logits (pairs, classes) in the pairs' order, computed in length-sorted batches
        (at most ``batch_size`` pairs and ``max_batch_tokens`` padded tokens each)."""
        out = np.empty((len(pairs), len(self.model_dir.manifest.id2label)), dtype=np.float32)
        batches = self.budget.plan(self.pair_lengths(pairs))
        if self._prefetcher is None or len(batches) < 2:  # one batch: nothing to overlap, no thread hand-off
            for batch in batches:
                out[batch] = self.run_batch(pairs.take(batch))
            return out
        # The next batch is assembled on a worker thread while this one runs (onnxruntime
        # releases the GIL), so a GPU does not wait for the host between runs.
        for batch, feeds in self._prefetcher.ahead(batches, lambda rows: self._feeds(pairs.take(rows))):
            out[batch] = run_logits(self.session, feeds, self.feeding.io_binding)
        return out

    def cost(self, prepared: PreparedCall) -> tuple[int, int]:
        """What a prepared call asks of the NLI model: pairs, and tokens (special tokens included,
        before padding); windows and a prefilter are already planned in. A server admits on it."""
        return len(prepared.pairs), int(self.pair_lengths(prepared.pairs).sum())

    def pair_lengths(self, pairs: PairSet) -> np.ndarray:
        """Tokens each pair takes in a batch, special tokens included (what ``budget`` counts)."""
        return pairs.lengths + self.encoder.layout.num_special

    def run_batch(self, pairs: PairSet) -> np.ndarray:
        """Logits of ``pairs`` as one onnxruntime run, as given: for callers that fill batches
        themselves under ``budget`` (the server's batcher). ``logits`` plans and calls this."""
        return run_logits(self.session, self._feeds(pairs), self.feeding.io_binding)

    def _feeds(self, pairs: PairSet) -> dict[str, np.ndarray]:
        encoded = self.encoder.assemble(pairs, self.budget.padded(int(self.pair_lengths(pairs).max())))
        return {
            "input_ids": encoded.input_ids,
            "attention_mask": encoded.attention_mask,
            "token_type_ids": encoded.token_type_ids,
        }

    def finish(self, prepared: PreparedCall, logits: np.ndarray, legacy: bool = False) -> Any:
        """Scores and rankings from the logits of ``prepared.pairs``, shaped as ``__call__`` returns them."""
        scores, orders = self._scores_and_orders(prepared, logits)
        results: list[Any] = []
        for text, row, order in zip(prepared.texts, scores, orders):
            if legacy:
                results.append({
                    "sequence": text,
                    "labels": [prepared.labels[i] for i in order],
                    "scores": [float(row[i]) for i in order],
                })
            else:
                results.append([{"label": prepared.labels[i], "score": float(row[i])} for i in order])
        return results[0] if prepared.single_text else results

    def _scores_and_orders(self, prepared: PreparedCall, logits: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Scores (texts, labels) and each text's label order, for the call's scoring mode."""
        n_texts, n_labels = len(prepared.texts), len(prepared.labels)
        similarity = prepared.similarity
        if prepared.scoring == "embedding" and similarity is not None:
            scores = multi_label_embedding_scores(relative_similarity(similarity), MULTI_LABEL_TEMPERATURE) if prepared.multi_label \
                else embedding_scores(similarity, EMBEDDING_TEMPERATURE)
            return scores, [ranking(row) for row in scores]
        selection = prepared.selection
        columns = selection if selection is not None else np.broadcast_to(np.arange(n_labels), (n_texts, n_labels))
        shaped = self._per_label_logits(prepared, logits, columns.shape[1])
        if prepared.scoring == "hybrid" and similarity is not None and prepared.multi_label:
            # The baseline is every label of the call, prefiltered or not: the call's own label set.
            relative = np.take_along_axis(relative_similarity(similarity), columns, axis=1)
            part = multi_label_hybrid_scores(shaped, self.entailment_id, self.contradiction_id, relative, MULTI_LABEL_TEMPERATURE,
                                             MULTI_LABEL_NLI_WEIGHT)
        elif prepared.scoring == "hybrid" and similarity is not None:
            chosen = np.take_along_axis(similarity, columns, axis=1)
            part = hybrid_scores(shaped, self.entailment_id, chosen, EMBEDDING_TEMPERATURE, HYBRID_NLI_WEIGHT)
        else:
            part = label_scores(shaped, self.entailment_id, self.contradiction_id, prepared.multi_label)
        if selection is None:
            return part, [ranking(row) for row in part]
        # Labels the prefilter dropped score 0.0 and follow the scored ones, most similar first.
        scores = np.zeros((n_texts, n_labels))
        np.put_along_axis(scores, selection, part, axis=1)
        orders = []
        for row, chosen_labels, sims in zip(part, selection, similarity if similarity is not None else scores):
            by_similarity = np.argsort(-sims, kind="stable")
            rest = by_similarity[~np.isin(by_similarity, chosen_labels)]
            orders.append(np.concatenate([chosen_labels[ranking(row)], rest]))
        return scores, orders

    def _per_label_logits(self, prepared: PreparedCall, logits: np.ndarray, labels_per_text: int) -> np.ndarray:
        """Logits (texts, labels, classes): as computed, or aggregated over each text's windows,
        per label the row of the window with the highest entailment logit ("max") or the mean."""
        if prepared.windows is None:
            return logits.reshape(len(prepared.texts), labels_per_text, -1)
        out = np.empty((len(prepared.texts), labels_per_text, logits.shape[-1]), dtype=logits.dtype)
        start = 0
        for i, count in enumerate(prepared.windows):
            block = logits[start : start + count * labels_per_text].reshape(count, labels_per_text, -1)
            start += count * labels_per_text
            if prepared.long_text == "max":
                best = block[..., self.entailment_id].argmax(axis=0)
                out[i] = block[best, np.arange(labels_per_text)]
            else:
                out[i] = block.mean(axis=0)
        return out


def warn_if_int8_saturates(precision: str, preset: str | None, compute: str) -> None:
    """int8 weights made for VNNI/arm64 can overflow AVX2's 16-bit u8 x s8 products: say so loudly."""
    if precision.startswith("int8") and preset in ("avx512_vnni", "arm64") and compute == "cpu" and not has_int8_dot_products():
        logger.warning(
            "this %s model was exported with the %s preset, whose 8-bit weights can saturate on a CPU without "
            "VNNI like this one (scores may be wrong); re-export with --preset avx2, which is correct on every CPU",
            precision, preset,
        )


def default_embedder_path() -> Path | None:
    """The embedded sentence embedder, where this install has it."""
    path = Path(str(resources.files("zsc.engine.models") / "embedder"))
    return path if (path / "model.onnx").exists() else None


def default_model_path() -> Path:
    path = Path(str(resources.files("zsc.engine.models") / "default"))
    if not (path / "model.onnx").exists():
        raise FileNotFoundError(
            f"the embedded default model is missing from {path}; build it with `make default-model` "
            "or pass a model directory"
        )
    return path


def _looks_like_hub_id(name: str) -> bool:
    """True for an "org/name" that cannot be a local path.

    No ./, ../, / or ~ prefix, no backslash, and no local folder "org": "out/x" next to an
    existing out/ is a mistyped path, not a hub id.
    """
    parts = name.split("/")
    return (
        len(parts) == 2 and all(parts) and "\\" not in name
        and not name.startswith((".", "~")) and not Path(parts[0]).exists()
    )


def _download(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - tokenizers depends on huggingface_hub
        raise ValueError(f"{repo_id} is not a local directory and huggingface_hub is not installed") from exc
    logger.info("downloading %s from the Hugging Face hub", repo_id)
    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:  # offline, unknown repo, no access: one message for both readings of the name
        raise FileNotFoundError(
            f"{repo_id}: no local model directory {Path(repo_id).expanduser().resolve()}, and the Hugging Face hub lookup "
            f"of {repo_id!r} failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})"
        ) from None
