"""ZeroShotClassifier: the public runtime API, and the orchestration of a call.

Its surface: ``from_pretrained`` / ``default`` / ``from_graph`` to load; ``__call__`` to classify
(what most users need); ``prepare`` → ``logits`` → ``finish``, the same call in three steps, so a
server can merge the pairs of several calls into shared batches; ``nli_logits`` for raw NLI
logits of (premise, hypothesis) pairs (validation, calibration, benchmarks).

A call reads top-down: check the inputs and options (inputs.py, options.py), ask the embedder
where the call needs it, plan the pairs (encoding.py: windows are premises, a prefilter narrows
each text's labels before pairs are planned), run them in batches (runner.py), and score
(scoring.py). Finding models is loading.py's job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

import numpy as np

from .batching import BatchBudget
from .call_habits import refuse_unknown, split_run_keywords
from .defaults import LONG_TEXT_MAX_TOKENS, PROVIDER_FEEDING, describe_window_defaults
from .encoding import PairEncoder, PairSet, TextWindows
from .feeding import Feeding
from .inputs import NO_LABEL_OR_SEQUENCE, InputError, hypotheses_for, normalise_label_sets, normalise_texts
from .load_options import LoadOptions, given_once
from .loading import default_embedder_path, default_model_path, local_model_path, warn_if_int8_saturates
from .manifest import GraphVariant, Manifest
from .model_dir import ModelDirectory, load_model_directory
from .model_files import MANIFEST_NAME
from .options import CallOptions
from .plan import PreparedCall, scored_positions
from .results import call_results
from .runner import BatchRunner, Feeds
from .scoring import aggregate_similarity, label_spread
from .scoring_modes import scoring_mode
from .session import GraphSession, open_session

if TYPE_CHECKING:
    from .embedding import TextEmbedder

# One label list for every text (the pipeline's), or one list per text (zsc's extension).
Labels = str | Iterable[str] | Sequence[Iterable[str]]


class Prediction(TypedDict):
    """One label's score; a call returns them ranked, highest first."""

    label: str
    score: float


class LegacyPrediction(TypedDict):
    """transformers' older result shape, for one text."""

    sequence: str
    labels: list[str]
    scores: list[float]


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
        session: GraphSession,
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
        self.runner = BatchRunner(session, self.feeding, encoder.max_length)
        self.head = model_dir.manifest.head
        # The embedder (prefilter, hybrid and embedding scoring) loads on first use: exact NLI
        # calls never pay for it. Same threads; an int8 embedder stays on the CPU when the NLI
        # model runs on CUDA ("auto"); a feeding the caller chose reaches it too.
        self._embedder: TextEmbedder | str | Path | None = embedder
        self._embedder_lock = threading.Lock()
        self._embedder_options = LoadOptions(threads=session.threads, feeding=feeding).for_embedder(session.compute_type)

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
        revision: str | None = None,
        options: LoadOptions | None = None,
    ) -> ZeroShotClassifier:
        """Load an exported model directory, or a hub repo id ("org/name") holding one.

        ``provider``: "auto" (CUDA when available and the directory has a graph suited to it,
        else CPU), "cpu" or "cuda". ``precision``: which of the directory's graphs runs: "auto"
        (fp16 on CUDA, the 8-bit graph on the CPU), "int8", "int8-dynamic", "fp16" or "fp32";
        ``clf.precision`` and ``clf.compute_type`` say what was chosen, and the log says why.
        ``threads``: onnxruntime intra-op threads (default: the CPUs this process may use).
        ``batch_size`` and ``max_batch_tokens`` bound each onnxruntime batch (pairs, and padded
        tokens); by default the provider's (``zsc.engine.defaults.PROVIDER_FEEDING``), as is
        ``feeding`` (which reaches the embedder too). ``verify`` checks the files against the manifest's sha256 hashes.
        These are :class:`~zsc.engine.load_options.LoadOptions`; ``options=`` passes one whole instead (not both).
        A hub id is fetched once, as ``from_pretrained`` does elsewhere: a zsc export's listed files, an
        ONNX repository's graph (transformers.js layout), or a transformers checkpoint exported once
        into zsc's cache when the export extra is installed (see zsc.engine.hub); ``revision``: the
        hub branch, tag or commit (default: main).
        A path-like name that does not exist raises FileNotFoundError, never a hub lookup.
        ``embedder``: a sentence-embedding model directory (``zsc export --task embedding``) or a
        TextEmbedder, for ``scoring="hybrid"|"embedding"`` and ``prefilter_top_k``; loaded on first use.
        """
        load = given_once(options, LoadOptions.of(provider, precision, threads, batch_size, max_batch_tokens, verify, revision, feeding))
        model_dir = load_model_directory(local_model_path(path, revision=load.revision), verify=load.verify)
        return cls._open(model_dir, model_dir.manifest.graphs(), load, embedder)

    @classmethod
    def default(cls, **kwargs: Any) -> ZeroShotClassifier:
        """The embedded per-row int8 model (minilm-l6-nli), shipped inside the package with its
        embedder (all-MiniLM-L6-v2, int8); no network.

        Takes the keyword arguments of ``from_pretrained``."""
        kwargs.setdefault("embedder", default_embedder_path())
        return cls.from_pretrained(default_model_path(), **kwargs)

    @classmethod
    def named(cls, model: str | Path | None, options: LoadOptions, embedder: str | Path | None = None) -> ZeroShotClassifier:
        """The classifier a front-end's flags name (the CLI, Ray, Spark): ``model`` a directory or hub
        id, None for the embedded default; ``embedder`` where one is given, else the model's own way
        (the embedded default keeps its embedded embedder, another model has none)."""
        if not model:
            return cls.default(options=options, **({} if embedder is None else {"embedder": embedder}))
        return cls.from_pretrained(model, options=options, embedder=embedder)

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
        directory, graphs = ModelDirectory.of_graph(Path(graph), manifest)
        load = LoadOptions.of(provider, threads=threads, batch_size=batch_size, max_batch_tokens=max_batch_tokens)
        return cls._open(directory, graphs, load, None, tokenizer)

    @classmethod
    def _open(cls, model_dir: ModelDirectory, graphs: list[GraphVariant], load: LoadOptions,
              embedder: TextEmbedder | str | Path | None, tokenizer: str | Path | None = None) -> ZeroShotClassifier:
        manifest = model_dir.manifest
        if manifest.task != "nli":
            raise ValueError(f"{model_dir.path} holds a model for task {manifest.task!r}; the classifier needs an NLI model "
                             "(an embedder goes in embedder=)")
        encoder = PairEncoder.from_file(tokenizer or model_dir.tokenizer_path, manifest.max_length, manifest.pad_token_id)
        session = open_session(model_dir.path, graphs, load.provider, load.precision, load.threads, num_labels=len(manifest.id2label))
        if manifest.input_names and set(manifest.input_names) != set(session.input_names):
            raise ValueError(
                f"{model_dir.path}: {MANIFEST_NAME} lists inputs {manifest.input_names} but the graph takes "
                f"{list(session.input_names)}; the manifest does not describe this graph"
            )
        warn_if_int8_saturates(session.precision, manifest.quantization_preset, session.compute_type)
        return cls(model_dir, session, encoder, load.batch_size, load.max_batch_tokens, embedder, load.feeding)

    @property
    def entailment_id(self) -> int:
        """The entailment class in this model's logits (``nli_logits``' columns)."""
        return self.head.entailment_id

    @property
    def contradiction_id(self) -> int:
        """The contradiction class in this model's logits."""
        return self.head.contradiction_id

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
                self._embedder = TextEmbedder.from_pretrained(self._embedder, options=self._embedder_options)
            return self._embedder

    # str is a Sequence[str] too: the str overloads come first and win (as in typeshed).
    @overload
    def __call__(self, inputs: str, candidate_labels: Labels, hypothesis_template: str = ...,  # type: ignore[overload-overlap]
                 multi_label: bool = ..., legacy: Literal[False] = ..., *, scoring: str = ...,
                 prefilter_top_k: int | str | None = ..., long_text: str = ..., window_tokens: int | None = ...,
                 options: CallOptions | None = ...) -> list[Prediction]: ...

    @overload
    def __call__(self, inputs: Iterable[str], candidate_labels: Labels, hypothesis_template: str = ...,
                 multi_label: bool = ..., legacy: Literal[False] = ..., *, scoring: str = ...,
                 prefilter_top_k: int | str | None = ..., long_text: str = ..., window_tokens: int | None = ...,
                 options: CallOptions | None = ...) -> list[list[Prediction]]: ...

    @overload
    def __call__(self, inputs: str, candidate_labels: Labels, hypothesis_template: str = ...,  # type: ignore[overload-overlap]
                 multi_label: bool = ..., *, legacy: Literal[True], scoring: str = ...,
                 prefilter_top_k: int | str | None = ..., long_text: str = ..., window_tokens: int | None = ...,
                 options: CallOptions | None = ...) -> LegacyPrediction: ...

    @overload
    def __call__(self, inputs: Iterable[str], candidate_labels: Labels, hypothesis_template: str = ...,
                 multi_label: bool = ..., *, legacy: Literal[True], scoring: str = ...,
                 prefilter_top_k: int | str | None = ..., long_text: str = ..., window_tokens: int | None = ...,
                 options: CallOptions | None = ...) -> list[LegacyPrediction]: ...

    def __call__(self, inputs: str | Iterable[str], candidate_labels: Labels, *args: Any, legacy: bool = False,
                 options: CallOptions | None = None, **keywords: Any) -> Any:
        """Classify one text (a ranked list of {label, score}) or a list of texts (a list of such lists).

        ``candidate_labels``: a list, or one comma-separated string, for every text; or one such
        list per text (``[["a", "b"], ["c", "d", "e"]]``), each text ranked against its own labels
        (each text's result equals calling it alone; pairs of all of them share batches).
        ``hypothesis_template``: where ``{}`` stands for the label. ``multi_label``: score each
        label on its own (entailment against contradiction) instead of a softmax over the labels.
        ``legacy=True`` returns transformers' older shape {sequence, labels, scores} instead.

        Beyond the pipeline (both need the embedder): ``scoring="hybrid"`` multiplies the NLI
        distribution with the embedding one (text-label cosine), ``"embedding"`` uses the latter
        alone (no NLI pass); with ``multi_label=True`` each label is scored on its own against a
        baseline from the text's labels (its cosine minus the mean of the other labels').
        ``prefilter_top_k=K`` runs NLI only on the K labels most similar to each text; the others
        follow with score 0.0, in order of similarity. Its default, ``"auto"``, is scoring "auto"'s
        rule for long label lists: a single-label call of more than 10 labels (with an embedder)
        keeps the ``AUTO_PREFILTER_TOP_K`` most similar; ``None`` keeps every label.
        ``scoring="auto"`` (the default) is exact NLI, the pipeline, unless a single-label call
        narrows its labels with a prefilter (the hybrid ranks the K: exact NLI on the K alone ranks
        worse than the embedding that chose them) or reads windows with ``long_text="max"`` (the
        hybrid over windows, below). So a call with at most 10 labels and only the pipeline's
        arguments is the pipeline; ``"nli"`` is always the pipeline.
        ``long_text="max"|"mean"``: instead of truncating a long text (the pipeline's behaviour),
        cut its first ``LONG_TEXT_MAX_TOKENS`` tokens into windows of ``window_tokens`` tokens at
        sentence ends (default per mode: ``DEFAULT_WINDOW_TOKENS``, both in ``zsc.engine.defaults``:
        {windows}) and score every window against every label. With NLI, per label the logits of
        its best window (max) or their mean, then the usual normalisation; with the hybrid, each
        window's NLI log-odds plus its cosine with the label less its mean cosine with the other
        labels, over T, best window or mean per label.
        ``options``: a :class:`CallOptions` instead of the keyword arguments (not both).
        As for the pipeline: ``batch_size`` sets the pairs per model run for this call (the token
        budget still holds; scores do not change), ``num_workers`` is accepted and ignored, and
        ``multi_class`` is ``multi_label``'s deprecated name (with a warning); any other keyword is
        a TypeError naming it.
        ``inputs`` may be any iterable of strings (list, tuple, numpy array, pandas Series,
        generator), as for the pipeline; several texts give a list of results.
        """
        keywords, batch_size = split_run_keywords(keywords)
        prepared = self.prepare(inputs, candidate_labels, *args, options=options, **keywords)
        return self.finish(prepared, self.logits(prepared.pairs, batch_size=batch_size), legacy=legacy)

    def nli_logits(self, premises: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        """Raw NLI logits, shape (pairs, classes), one row per (premise, hypothesis) position.

        Class order is the model's ``id2label``; the premise is truncated as the pipeline does.
        """
        return self.logits(self.encoder.zipped_pairs(list(premises), list(hypotheses)))

    def prepare(self, inputs: str | Iterable[str], candidate_labels: Labels, *args: Any, options: CallOptions | None = None,
                admit: Callable[[int, int], None] | None = None, **keywords: Any) -> PreparedCall:
        """Validate and tokenise a call (every check of ``__call__``, whose arguments it takes),
        without running the NLI model (the embedder runs here when the call needs it).

        ``admit``: called with the NLI pairs and the passes the embedder will make (texts or their
        windows, and the call's distinct labels) once windows are cut, before the embedder runs;
        it raises to refuse the call (a server's size limit), so a request it refuses never pays
        for embedding its windows or its labels."""
        texts, single = normalise_texts(inputs)
        label_sets = normalise_label_sets(candidate_labels, len(texts))
        if not texts:
            raise InputError(NO_LABEL_OR_SEQUENCE)
        options = _call_options(options, args, keywords)
        call_labels = list(dict.fromkeys(label for labels in label_sets for label in labels))
        hypotheses = hypotheses_for(call_labels, options.hypothesis_template)
        label_index = _positions(label_sets, call_labels)
        has_embedder = self._embedder is not None
        scorings = [options.resolved_scoring(len(labels), embedder=has_embedder) for labels in label_sets]
        narrowed = [options.narrows(len(labels), has_embedder) for labels in label_sets]
        windows = self._windows(texts, options, hypotheses, label_index)
        embeds = any(narrowed) or any(scoring_mode(mode).uses_embedder for mode in scorings)  # then the embedder reads every text
        if admit is not None:
            window_counts = [len(w.ids) for w in windows] if windows is not None else [1] * len(texts)
            admit(sum(options.nli_labels(len(labels), has_embedder) * count for labels, count in zip(label_sets, window_counts)),
                  sum(window_counts) + len(call_labels) if embeds else 0)
        similarity = window_similarity = chosen = spread = None
        if embeds:
            label_vectors = self.embedder.embed(call_labels)
            spread = [label_spread(label_vectors[index]) for index in label_index]
            if windows is None:
                similarity = [rows[0] for rows in self._similarity([[text] for text in texts], label_vectors, label_index)]
            else:
                window_similarity = self._similarity([w.texts() for w in windows], label_vectors, label_index)
                similarity = [aggregate_similarity(rows, options.long_text) for rows in window_similarity]
            if any(narrowed):
                # The K most similar labels per text, most similar first (a stable order for ties); a
                # text with K labels or fewer keeps them all, in their order, as it would alone.
                chosen = [np.argsort(-row, kind="stable")[: options.top_k(len(row), has_embedder)] if narrows else np.arange(len(row))
                          for row, narrows in zip(similarity, narrowed)]
        # Each text's pairs: its windows (premises like any other) x the hypotheses of the labels NLI scores.
        columns = [label_index[i][scored_positions(len(label_sets[i]), scorings[i], chosen[i] if chosen is not None else None)]
                   for i in range(len(texts))]
        if windows is None:
            premises = [[ids] for ids in self.encoder.encode_texts(texts, self.encoder.max_length)]
        else:
            premises = [w.ids for w in windows]
        pairs = self.encoder.pairs_of(premises, hypotheses, call_labels, columns)
        return PreparedCall(texts, label_sets, options, scorings, single, pairs, chosen, similarity,
                            [len(w) for w in premises] if windows is not None else None, window_similarity, spread)

    def _similarity(self, passages: list[list[str]], label_vectors: np.ndarray, label_index: list[np.ndarray]) -> list[np.ndarray]:
        """Each text's passages' (the text, or its windows) cosine with each of the text's labels,
        (passages, labels). One product per text, so a text's rows never depend on the other texts."""
        embedder = self.embedder
        vectors = np.split(embedder.embed([p for own in passages for p in own]), np.cumsum([len(own) for own in passages])[:-1])
        return [rows @ label_vectors[index].T for rows, index in zip(vectors, label_index)]

    def _windows(self, texts: list[str], options: CallOptions, hypotheses: list[str], label_index: list[np.ndarray]
                 ) -> list[TextWindows] | None:
        """Each text's windows with long_text "max"/"mean" (None with "truncate"), as large as
        ``options`` asks and the longest hypothesis of its own labels leaves room for."""
        if options.long_text == "truncate":
            return None
        lengths = np.array([len(ids) for ids in self.encoder.encode_hypotheses(hypotheses)])
        room = self.encoder.max_length - self.encoder.layout.num_special
        sizes = [max(1, min(options.window_size() or room, room - int(lengths[own].max()))) for own in label_index]
        windows: dict[int, TextWindows] = {}
        for size in set(sizes):
            members = [i for i, s in enumerate(sizes) if s == size]
            windows.update(zip(members, self.encoder.windows([texts[i] for i in members], size, LONG_TEXT_MAX_TOKENS)))
        return [windows[i] for i in range(len(texts))]

    @property
    def budget(self) -> BatchBudget:
        """The batch budget every onnxruntime run of this classifier keeps to."""
        return self.runner.budget

    @property
    def batch_size(self) -> int:
        return self.budget.max_batch_size

    @property
    def max_batch_tokens(self) -> int:
        return self.budget.max_batch_tokens

    def logits(self, pairs: PairSet, batch_size: int | None = None) -> np.ndarray:
        """Logits (pairs, classes) in the pairs' order, computed in length-sorted batches
        (at most ``batch_size`` pairs, the classifier's own unless given, and ``max_batch_tokens``
        padded tokens each)."""
        out = np.empty((len(pairs), len(self.model_dir.manifest.id2label)), dtype=np.float32)
        budget = self.budget if batch_size is None else replace(self.budget, max_batch_size=batch_size)
        for rows, _, logits in self.runner.batches(self.pair_lengths(pairs), lambda rows, width: self._feeds(pairs.take(rows), width),
                                                   budget):
            out[rows] = logits
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
        return self.runner.run(self._feeds(pairs, self.budget.padded(int(self.pair_lengths(pairs).max()))))

    def _feeds(self, pairs: PairSet, width: int) -> Feeds:
        encoded = self.encoder.assemble(pairs, width)
        return {"input_ids": encoded.input_ids, "attention_mask": encoded.attention_mask, "token_type_ids": encoded.token_type_ids}

    def finish(self, prepared: PreparedCall, logits: np.ndarray, legacy: bool = False) -> Any:
        """Scores and rankings from the logits of ``prepared.pairs``, shaped as ``__call__`` returns them."""
        results: list[Any] = []
        ranked = call_results(prepared, logits, self.head)
        for text, labels, (row, order) in zip(prepared.texts, prepared.labels, ranked):
            if legacy:
                results.append({"sequence": text, "labels": [labels[i] for i in order], "scores": [float(row[i]) for i in order]})
            else:
                results.append([{"label": labels[i], "score": float(row[i])} for i in order])
        return results[0] if prepared.single_text else results


# The window defaults, quoted in __call__'s docstring from defaults.py rather than restated.
ZeroShotClassifier.__call__.__doc__ = (ZeroShotClassifier.__call__.__doc__ or "").replace("{windows}", describe_window_defaults())

_KEYWORDS = ("hypothesis_template", "multi_label")  # the pipeline's positional parameters after the labels


def _call_options(options: CallOptions | None, args: tuple[Any, ...], keywords: dict[str, Any]) -> CallOptions:
    """The call's options: given as an object, or built from the pipeline's arguments (not both)."""
    if len(args) > len(_KEYWORDS):
        raise TypeError(f"at most {len(_KEYWORDS) + 2} positional arguments: inputs, candidate_labels, {', '.join(_KEYWORDS)}")
    named = dict(zip(_KEYWORDS, args))
    twice = set(named) & set(keywords)
    if twice:
        raise TypeError(f"{', '.join(sorted(twice))} given by position and by name")
    named |= keywords
    refuse_unknown(set(named))
    if options is None:
        return CallOptions.of(**named)
    if named:
        raise TypeError(f"give options= or the keyword arguments ({', '.join(sorted(named))}), not both")
    if not isinstance(options, CallOptions):
        raise TypeError(f"options must be a CallOptions, got {type(options).__name__}")
    return options


def _positions(label_sets: list[list[str]], call_labels: list[str]) -> list[np.ndarray]:
    """Each text's labels as positions in ``call_labels`` (computed once for a list shared by every text)."""
    position = {label: i for i, label in enumerate(call_labels)}
    done: dict[int, np.ndarray] = {}
    out = []
    for labels in label_sets:
        if id(labels) not in done:
            done[id(labels)] = np.fromiter((position[label] for label in labels), dtype=np.int64, count=len(labels))
        out.append(done[id(labels)])
    return out
