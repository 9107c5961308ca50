"""Manifest: what zsc.json says about an exported model (its schema, checks and graphs)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .int8_twin import Int8Twin
from .model_files import MANIFEST_DIGEST_KEY, MANIFEST_NAME, MODEL_FILE, TOKENIZER_FILE, is_sha256, plain_file_name
from .nli_head import NliHead
from .pooling import DEFAULT_POOLING, POOLING_MODES

logger = logging.getLogger("zsc")


# 2: an embedder's pooling and prompt (a format-1 reader would mean-pool without the prompt, so
# such a manifest says format 2 and older runtimes refuse it; every other manifest stays format 1).
MANIFEST_FORMAT = 2
MAX_PROMPT_CHARS = 1000


def embedding_format(pooling: str, prompt: str) -> int:
    """The manifest format an embedder with this pooling and prompt needs."""
    return 1 if pooling == DEFAULT_POOLING and not prompt else 2


TASKS = ("nli", "embedding")
# What a graph computes in; "unknown" for a plain optimum export, whose manifest zsc derives.
PRECISIONS = ("int8", "int8-dynamic", "fp16", "fp32", "unknown")
# The longest sequence a manifest may declare: far past any NLI or embedding model's positions;
# a larger max_length can only be a mistake, and would let one text fill memory.
MAX_SEQUENCE_LENGTH = 1 << 17
_TOKEN_ID_LIMIT = 1 << 31  # token ids are int32 in every vocabulary tokenizers writes
MIN_PAIR_TOKENS = 8  # the least max_length of an NLI model: room for a premise and a hypothesis


def _whole_number(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise ValueError(f"{MANIFEST_NAME}: {what} must be a whole number from {low} to {high - 1}, got {value!r}")
    return value


@dataclass(frozen=True)
class GraphVariant:
    """One graph of a model directory: the file, what it computes in, and how its weights are stored
    ("int8" for an fp16 graph built from the int8 graph's 8-bit weights; None: as its precision);
    ``twin``: the int8 graph's twin for CPUs with 8-bit dot products, where the directory has one."""

    precision: str
    file: str
    weights: str | None = None
    twin: Int8Twin | None = None

    def describe(self) -> str:
        return f"{self.precision} ({self.file}{', 8-bit weights' if self.weights == 'int8' else ''})"


@dataclass(frozen=True)
class Manifest:
    """What the runtime needs to know about an exported model, plus its provenance."""

    entailment_id: int
    contradiction_id: int
    max_length: int
    pad_token_id: int
    id2label: dict[int, str]
    model_type: str = "unknown"
    model_file: str = MODEL_FILE
    input_names: list[str] = field(default_factory=list)
    precision: str = "fp32"
    optimization: str | None = None
    quantization_preset: str | None = None
    first_token_only: bool = False  # the last layer's top runs on the pooled token only
    opset: int | None = None
    source: str | None = None
    zsc_version: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    parity: dict[str, Any] = field(default_factory=dict)
    # "nli": a premise/hypothesis classifier (the ids above index its logits); "embedding": a
    # sentence encoder whose token states are pooled (``pooling``) and L2-normalised (id2label is empty).
    task: str = "nli"
    # An embedder's pooling (pooling.POOLING_MODES) and the prompt put before every text it reads
    # (sentence-transformers' prompts, e.g. e5's "query: "); read from the checkpoint at export.
    pooling: str = DEFAULT_POOLING
    prompt: str = ""
    # Further graphs of the same model for other providers (e.g. fp16 for CUDA beside the int8
    # model_file); each {"precision", "file", "weights"?}. The runtime picks one per provider.
    variants: list[dict[str, Any]] = field(default_factory=list)
    # The per-row int8 graph's twin for CPUs with 8-bit dot products (see Int8Twin):
    # {"of": that graph's file, "file", "weights", "tensors": {name: [offset, shape]}}; {} if none.
    int8_view: dict[str, Any] = field(default_factory=dict)
    # What each export transformation (optimize, first_token_only, int8) did to this graph, or
    # why it was skipped for this architecture: provenance, not read by the runtime.
    transformations: dict[str, Any] = field(default_factory=dict)
    # `zsc tune`: the base model, the examples' sha256, labels, template, examples per label,
    # epochs, seed, ... (empty for a plain export).
    tuning: dict[str, Any] = field(default_factory=dict)
    format: int = 1  # the oldest format that reads this manifest right (embedding_format); MANIFEST_FORMAT is the newest read

    @property
    def head(self) -> NliHead:
        """Where this NLI model's logits hold entailment and contradiction."""
        return NliHead(self.entailment_id, self.contradiction_id)

    def graphs(self) -> list[GraphVariant]:
        """Every graph of the directory, the main one (``model_file``) first."""
        main = GraphVariant(self.precision, self.model_file)
        graphs = [main] + [GraphVariant(str(v["precision"]), str(v["file"]), v.get("weights")) for v in self.variants]
        if not self.int8_view:
            return graphs
        twin = Int8Twin.from_entry(self.int8_view)
        viewed = [g for g in graphs if g.file == self.int8_view.get("of") and g.precision == "int8"]
        if len(viewed) != 1:
            raise ValueError(f"{MANIFEST_NAME}: int8_view is of {self.int8_view.get('of')!r}, which is not this directory's int8 graph")
        return [replace(g, twin=twin) if g is viewed[0] else g for g in graphs]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["id2label"] = {str(k): v for k, v in self.id2label.items()}
        return data

    def referenced_files(self) -> list[str]:
        """Every file the runtime reads from the directory: each graph, the twin's graph and its
        weights, the tokenizer (each checked to be a plain name inside the directory)."""
        names = []
        for graph in self.graphs():
            names.append(plain_file_name(graph.file, f"the file of the {graph.precision} graph"))
            if graph.twin is not None:
                names += [plain_file_name(graph.twin.file, "int8_view.file"), plain_file_name(graph.twin.weights, "int8_view.weights")]
        return list(dict.fromkeys(names + [TOKENIZER_FILE]))

    def check(self) -> None:
        """Values the runtime indexes with must be in range and of their type, and every file named
        must be inside the directory: a bad manifest is an error at load, not at the first call."""
        if self.task not in TASKS:
            raise ValueError(f"{MANIFEST_NAME}: task {self.task!r} is not one of {TASKS}")
        if self.pooling not in POOLING_MODES:
            raise ValueError(f"{MANIFEST_NAME}: pooling {self.pooling!r} is not one of {POOLING_MODES}")
        if not isinstance(self.prompt, str) or len(self.prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"{MANIFEST_NAME}: prompt must be a string of at most {MAX_PROMPT_CHARS} characters")
        _whole_number(self.max_length, "max_length", 2, MAX_SEQUENCE_LENGTH + 1)
        _whole_number(self.pad_token_id, "pad_token_id", 0, _TOKEN_ID_LIMIT)
        if not isinstance(self.files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.files.items()):
            raise ValueError(f"{MANIFEST_NAME}: files must be an object {{file name: sha256}}, got {type(self.files).__name__}")
        for name, digest in self.files.items():
            plain_file_name(name, "each name in files")
            if not is_sha256(digest):
                raise ValueError(f"{MANIFEST_NAME}: files[{name!r}] must be a sha256 (64 hex digits)")
        if not isinstance(self.variants, list) or not all(isinstance(v, dict) for v in self.variants):
            raise ValueError(f"{MANIFEST_NAME}: variants must be a list of objects")
        if not isinstance(self.int8_view, dict) or not isinstance(self.model_file, str):
            raise ValueError(f"{MANIFEST_NAME}: int8_view must be an object and model_file a string")
        try:
            graphs = self.graphs()
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{MANIFEST_NAME}: each of variants needs a precision and a file ({exc})") from exc
        self.referenced_files()
        for graph in graphs:
            if graph.precision not in PRECISIONS:
                raise ValueError(f"{MANIFEST_NAME}: precision {graph.precision!r} of {graph.file} is not one of {PRECISIONS}")
        graph_files = [g.file for g in graphs] + [g.twin.file for g in graphs if g.twin is not None]
        for name, values in (("precision", [g.precision for g in graphs]), ("file", graph_files)):
            if len(set(values)) != len(values):
                raise ValueError(f"{MANIFEST_NAME}: two graphs share a {name} ({values}); each graph needs its own")
        if self.task == "embedding":
            if self.max_length < 2:
                raise ValueError(f"{MANIFEST_NAME}: max_length {self.max_length} is too small")
            return
        for name in ("entailment_id", "contradiction_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value not in self.id2label:
                raise ValueError(f"{MANIFEST_NAME}: {name} {value} is not one of the model's outputs {sorted(self.id2label)}")
        if self.max_length < MIN_PAIR_TOKENS:
            raise ValueError(f"{MANIFEST_NAME}: max_length {self.max_length} is too small for a premise and a hypothesis")


    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known - {MANIFEST_DIGEST_KEY}
        if unknown:
            logger.debug("ignoring unknown manifest keys: %s", sorted(unknown))
        try:
            values = {k: v for k, v in data.items() if k in known}
            values["id2label"] = {int(k): str(v) for k, v in data["id2label"].items()}
            manifest = cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{MANIFEST_NAME} is malformed: {exc}") from exc
        if manifest.format > MANIFEST_FORMAT:
            raise ValueError(
                f"{MANIFEST_NAME} has format {manifest.format}; this zsc reads format "
                f"{MANIFEST_FORMAT} and older. Upgrade zsc."
            )
        return manifest
