"""Read and verify an exported model directory.

A model directory holds ``model.onnx``, ``tokenizer.json``, ``config.json`` and the
manifest ``zsc.json`` written by ``zsc export``. A plain optimum export (no manifest)
is accepted too: its settings are derived the way transformers' pipeline derives them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

logger = logging.getLogger("zsc")

MANIFEST_NAME = "zsc.json"
MANIFEST_DIGEST_KEY = "manifest_sha256"
MANIFEST_FORMAT = 1
MODEL_FILE = "model.onnx"
TASKS = ("nli", "embedding")
# What a graph computes in; "unknown" for a plain optimum export, whose manifest zsc derives.
PRECISIONS = ("int8", "int8-dynamic", "fp16", "fp32", "unknown")
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"
# Sentinel used by tokenizers for "no limit"; larger values mean the tokenizer set none.
_UNBOUNDED_LENGTH = 1_000_000
# The longest sequence a manifest may declare: far past any NLI or embedding model's positions;
# a larger max_length can only be a mistake, and would let one text fill memory.
MAX_SEQUENCE_LENGTH = 1 << 17
_TOKEN_ID_LIMIT = 1 << 31  # token ids are int32 in every vocabulary tokenizers writes
_SHA256_HEX = frozenset("0123456789abcdef")
MIN_PAIR_TOKENS = 8  # the least max_length of an NLI model: room for a premise and a hypothesis
# Models whose position ids start after the padding index (RoBERTa family).
_POSITION_OFFSET_MODELS = {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet"}


def is_sha256(value: object) -> bool:
    """A sha256 as zsc writes it: 64 lower-case hex digits."""
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256_HEX


def plain_file_name(name: object, what: str) -> str:
    """``name`` if it names a file directly inside the model directory: a non-empty string with no
    folder part, not "." or "..", so no manifest can point a loader outside its directory."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name \
            or Path(name).is_absolute():
        raise ValueError(f"{MANIFEST_NAME}: {what} must be a file name inside the model directory, got {name!r}")
    return name


def _whole_number(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise ValueError(f"{MANIFEST_NAME}: {what} must be a whole number from {low} to {high - 1}, got {value!r}")
    return value


@dataclass(frozen=True)
class SignFlippedView:
    """A per-row int8 graph's twin for CPUs with 8-bit dot products (VNNI, arm64).

    The portable graph stores its quantised weights as uint8 with zero point 128, which every
    x86 CPU multiplies without int16 saturation; there, onnxruntime's u8 x s8 kernel is faster.
    The twin declares the same bytes int8 with zero point 0: flipping each byte's sign bit turns
    q + 128 into q, so the integers, and the scores, are the same. Its flipped tensors point at a
    file that does not exist: the runtime supplies them at load (read from ``weights``, flipped),
    and loading the twin without zsc fails instead of reading uint8 bytes as int8."""

    file: str
    weights: str
    tensors: tuple[tuple[str, int, tuple[int, ...]], ...]  # (initializer, byte offset in weights, shape)

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> SignFlippedView:
        try:
            tensors = tuple((str(name), int(offset), tuple(int(d) for d in shape)) for name, (offset, shape) in entry["tensors"].items())
            view = cls(str(entry["file"]), str(entry["weights"]), tensors)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{MANIFEST_NAME}: int8_view needs file, weights and tensors {{name: [offset, shape]}} ({exc})") from exc
        if not tensors or any(offset < 0 or any(d < 0 for d in shape) for _, offset, shape in tensors):
            raise ValueError(f"{MANIFEST_NAME}: int8_view lists no tensors, or a negative offset or dimension")
        return view


@dataclass(frozen=True)
class GraphVariant:
    """One graph of a model directory: the file, what it computes in, and how its weights are stored
    ("int8" for an fp16 graph built from the int8 graph's 8-bit weights; None: as its precision);
    ``view``: the int8 graph's twin for CPUs with 8-bit dot products, where the directory has one."""

    precision: str
    file: str
    weights: str | None = None
    view: SignFlippedView | None = None

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
    # sentence encoder whose token states are mean-pooled and L2-normalised (id2label is empty).
    task: str = "nli"
    # Further graphs of the same model for other providers (e.g. fp16 for CUDA beside the int8
    # model_file); each {"precision", "file", "weights"?}. The runtime picks one per provider.
    variants: list[dict[str, Any]] = field(default_factory=list)
    # The per-row int8 graph's twin for CPUs with 8-bit dot products (see SignFlippedView):
    # {"of": that graph's file, "file", "weights", "tensors": {name: [offset, shape]}}; {} if none.
    int8_view: dict[str, Any] = field(default_factory=dict)
    # What each export transformation (optimize, first_token_only, int8) did to this graph, or
    # why it was skipped for this architecture: provenance, not read by the runtime.
    transformations: dict[str, Any] = field(default_factory=dict)
    # `zsc tune`: the base model, the examples' sha256, labels, template, examples per label,
    # epochs, seed, ... (empty for a plain export).
    tuning: dict[str, Any] = field(default_factory=dict)
    format: int = MANIFEST_FORMAT

    def graphs(self) -> list[GraphVariant]:
        """Every graph of the directory, the main one (``model_file``) first."""
        main = GraphVariant(self.precision, self.model_file)
        graphs = [main] + [GraphVariant(str(v["precision"]), str(v["file"]), v.get("weights")) for v in self.variants]
        if not self.int8_view:
            return graphs
        view = SignFlippedView.from_entry(self.int8_view)
        viewed = [g for g in graphs if g.file == self.int8_view.get("of") and g.precision == "int8"]
        if len(viewed) != 1:
            raise ValueError(f"{MANIFEST_NAME}: int8_view is of {self.int8_view.get('of')!r}, which is not this directory's int8 graph")
        return [replace(g, view=view) if g is viewed[0] else g for g in graphs]

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
            if graph.view is not None:
                names += [plain_file_name(graph.view.file, "int8_view.file"), plain_file_name(graph.view.weights, "int8_view.weights")]
        return list(dict.fromkeys(names + [TOKENIZER_FILE]))

    def check(self) -> None:
        """Values the runtime indexes with must be in range and of their type, and every file named
        must be inside the directory: a bad manifest is an error at load, not at the first call."""
        if self.task not in TASKS:
            raise ValueError(f"{MANIFEST_NAME}: task {self.task!r} is not one of {TASKS}")
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
        graph_files = [g.file for g in graphs] + [g.view.file for g in graphs if g.view is not None]
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


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    """Write zsc.json with its digest (tools that edit a manifest call this too)."""
    data = {k: v for k, v in data.items() if k != MANIFEST_DIGEST_KEY}
    data[MANIFEST_DIGEST_KEY] = manifest_digest(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def manifest_digest(data: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own digest: edits to zsc.json show."""
    body = {k: v for k, v in data.items() if k != MANIFEST_DIGEST_KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class ModelDirectory:
    path: Path
    manifest: Manifest

    @property
    def model_path(self) -> Path:
        return self.path / self.manifest.model_file

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER_FILE

    @property
    def labels(self) -> list[str]:
        return [self.manifest.id2label[i] for i in sorted(self.manifest.id2label)]


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; every way it can fail is a ValueError naming the file (the
    parser's recursion limit bounds the depth)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    except RecursionError:
        raise ValueError(f"{path} is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


def nli_label_ids(label2id: dict[str, int], num_labels: int) -> tuple[int, int, bool]:
    """Entailment and contradiction ids exactly as transformers' pipeline picks them.

    Returns (entailment_id, contradiction_id, found): entailment is the first label whose
    lower-cased name starts with "entail", else the last logit (-1) with found=False.
    Contradiction is 0 unless entailment is 0, then the last logit.
    """
    entailment = -1
    for label, index in label2id.items():
        if str(label).lower().startswith("entail"):
            entailment = int(index)
            break
    found = entailment != -1
    contradiction = -1 if entailment == 0 else 0
    # Normalise -1 to a real index so numpy indexing and the manifest agree.
    return entailment % num_labels, contradiction % num_labels, found


def label_maps(config: dict[str, Any], path: Path) -> tuple[dict[int, str], dict[str, int]]:
    """id2label and label2id from an HF config, each id a whole number, or a ValueError naming ``path``."""
    try:
        id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
        label2id = {str(k): int(v) for k, v in (config.get("label2id") or {v: k for k, v in id2label.items()}).items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: id2label and label2id must map whole-number ids and labels ({exc})") from None
    if not id2label:
        raise ValueError(f"{path} has no id2label: is this a classification model?")
    if not set(label2id.values()) <= set(id2label):
        raise ValueError(f"{path}: label2id names ids {sorted(set(label2id.values()) - set(id2label))} that id2label does not have")
    return id2label, label2id


def derive_max_length(config: dict[str, Any], tokenizer_config: dict[str, Any]) -> int:
    """The pipeline truncates to the tokenizer's model_max_length; fall back to positions."""
    declared = tokenizer_config.get("model_max_length")
    if isinstance(declared, (int, float)) and 0 < declared < _UNBOUNDED_LENGTH:
        return int(declared)
    positions = int(config.get("max_position_embeddings", 512))
    if config.get("model_type") in _POSITION_OFFSET_MODELS:
        positions -= 2
    return positions


def manifest_from_hf_files(directory: Path, model_file: str = MODEL_FILE) -> Manifest:
    """Build a manifest for a directory that has HF files but no zsc.json (plain optimum export)."""
    config = read_json(directory / CONFIG_FILE)
    tokenizer_config_path = directory / "tokenizer_config.json"
    tokenizer_config = read_json(tokenizer_config_path) if tokenizer_config_path.exists() else {}
    id2label, label2id = label_maps(config, directory / CONFIG_FILE)
    entailment, contradiction, found = nli_label_ids(label2id, len(id2label))
    if not found:
        logger.warning(
            "Failed to determine 'entailment' label id from the label mapping in the model config. "
            "Setting to -1. Define a descriptive label2id mapping in the model config to ensure correct outputs."
        )
    pad = tokenizer_config.get("pad_token_id", config.get("pad_token_id"))
    return Manifest(
        entailment_id=entailment,
        contradiction_id=contradiction,
        max_length=derive_max_length(config, tokenizer_config),
        pad_token_id=int(pad) if pad is not None else 0,
        id2label=id2label,
        model_type=str(config.get("model_type", "unknown")),
        model_file=model_file,
        precision="unknown",  # nothing records it; the graph could be fp32, fp16 or int8
    )


def load_model_directory(path: str | Path, verify: bool = True) -> ModelDirectory:
    """Open a model directory, checking that its files exist and match the manifest's hashes."""
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"model directory not found: {directory}")
    manifest_path = directory / MANIFEST_NAME
    if manifest_path.exists():
        data = read_json(manifest_path)
        if verify:
            verify_manifest_digest(manifest_path, data)
        try:
            manifest = Manifest.from_json(data)
        except ValueError as exc:
            raise _naming(exc, manifest_path) from None
    else:
        onnx_files = sorted(p.name for p in directory.glob("*.onnx"))
        if not onnx_files:
            raise FileNotFoundError(f"no {MANIFEST_NAME} and no .onnx file in {directory}")
        if not (directory / CONFIG_FILE).exists():
            raise FileNotFoundError(f"no {MANIFEST_NAME} and no {CONFIG_FILE} in {directory}")
        model_file = MODEL_FILE if MODEL_FILE in onnx_files else onnx_files[0]
        manifest = manifest_from_hf_files(directory, model_file)
        logger.warning(
            "%s has no %s: its files cannot be checked for corruption or tampering, and its precision is unknown; "
            "settings are derived from config.json. Export with `zsc export` for a verified model directory.",
            directory, MANIFEST_NAME,
        )
    try:
        manifest.check()
        referenced = manifest.referenced_files()
    except ValueError as exc:
        raise _naming(exc, manifest_path) from None
    for required in referenced:
        if not (directory / required).is_file():
            raise FileNotFoundError(f"{directory} is missing {required}")
    if verify and manifest_path.exists():
        unhashed = [name for name in referenced if name not in manifest.files]
        if unhashed:
            raise ValueError(f"{manifest_path} names {', '.join(unhashed)} but records no sha256 for it: the file cannot be "
                             "verified; re-export the model")
        verify_hashes(directory, manifest.files)
    return ModelDirectory(directory, manifest)


def _naming(exc: ValueError, manifest_path: Path) -> ValueError:
    """The manifest's error with the file named in full: "zsc.json: ..." -> "/models/x/zsc.json: ..."."""
    message = str(exc)
    return ValueError(str(manifest_path) + message[len(MANIFEST_NAME):] if message.startswith(MANIFEST_NAME) else message)


def verify_manifest_digest(path: Path, data: dict[str, Any]) -> None:
    recorded = data.get(MANIFEST_DIGEST_KEY)
    if recorded is None:
        logger.warning("%s carries no %s (written by an older zsc): edits to it cannot be detected", path, MANIFEST_DIGEST_KEY)
    elif recorded != manifest_digest(data):
        raise ValueError(f"{path} was edited after export (its {MANIFEST_DIGEST_KEY} does not match); re-export the model")


def verify_hashes(directory: Path, expected: dict[str, str]) -> None:
    for name, digest in expected.items():
        file_path = directory / name
        if not file_path.is_file():
            raise FileNotFoundError(f"{directory} is missing {name}, listed in {MANIFEST_NAME}")
        actual = sha256_file(file_path)
        if actual != digest:
            raise ValueError(
                f"{file_path} does not match the sha256 in {MANIFEST_NAME} (altered or corrupt): "
                f"expected {digest[:12]}…, got {actual[:12]}…"
            )
