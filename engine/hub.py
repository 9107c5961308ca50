"""Models named by a Hugging Face hub id, fetched as ``from_pretrained`` does elsewhere: only the
files that are needed, into the hub's own cache, then loaded like a local directory.

Three kinds of repository, told apart by their file list:

- a zsc export (``zsc.json`` at the root): the manifest first, then exactly the files it lists
  (their hashes are checked at load, as for any export);
- an ONNX repository in transformers.js's layout (``onnx/model.onnx`` beside ``config.json`` and
  ``tokenizer.json``): its graph runs as it is, with settings derived from ``config.json``
  (zsc did not write it, so its batch invariance is unknown);
- a transformers NLI checkpoint: exported once, by the export extra (found through the
  ``zsc.exporters`` entry point, so the engine never imports it), into zsc's cache under a key of
  repository, revision and export options, like optimum's ``export=True``; the checkpoint's
  config, tokenizer and one weights format are all that is downloaded. Without the extra, a
  message names the command that exports it.

Offline (``HF_HUB_OFFLINE=1``), the file list is read from the cached snapshot.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .distribution import install_hint
from .manifest import Manifest
from .model_files import CONFIG_FILE, MANIFEST_NAME, TOKENIZER_FILE, read_json

logger = logging.getLogger("zsc")

EXPORTER_GROUP = "zsc.exporters"  # entry points: task ("nli", "embedding") -> exporter(checkpoint, output, source, options)
CACHE_ENV = "ZSC_CACHE"  # where checkpoints exported on demand and ONNX repositories' views live
# What a checkpoint's export reads besides its weights (whichever of these the repository has).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt",
                   "vocab.json", "merges.txt", "spm.model", "tokenizer.model", "sentencepiece.bpe.model")
# The sentence-transformers files an embedder's export reads (pooling, normalisation, prompts).
SENTENCE_TRANSFORMERS_FILES = ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json")
# Graphs of the transformers.js layout, the full-precision one first (the quantised one is
# onnxruntime's dynamic int8: its scores depend on the batch).
ONNX_GRAPHS = ("onnx/model.onnx", "onnx/model_quantized.onnx")
# What a checkpoint exported on demand gets: the export's defaults, plus an fp16 graph over the
# same 8-bit weights for CUDA (as the embedded model has).
ON_DEMAND_EXPORT = {"quantize": "int8,fp16-w8", "optimize": "O2", "preset": "auto"}


class HubModelError(ValueError):
    """The repository was read, and what it holds cannot be loaded (the message says what to do)."""


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "zsc").expanduser()


def hub_model_path(repo_id: str, task: str = "nli", revision: str | None = None) -> Path:
    """A local model directory for ``repo_id``, fetched (and for a checkpoint, exported) once."""
    sha, files = repo_listing(repo_id, revision)
    if MANIFEST_NAME in files:
        return _zsc_export(repo_id, sha)
    graph = next((g for g in ONNX_GRAPHS if g in files), None)
    if graph is not None and CONFIG_FILE in files and TOKENIZER_FILE in files:
        return _onnx_repository(repo_id, sha, files, graph)
    if CONFIG_FILE in files:
        return _exported_checkpoint(repo_id, sha, files, task)
    raise HubModelError(f"{repo_id} on the Hugging Face hub is not a model zsc can load: it has no {MANIFEST_NAME} (a zsc export), "
                            f"no {ONNX_GRAPHS[0]} (an ONNX repository) and no {CONFIG_FILE} (a transformers checkpoint)")


def repo_listing(repo_id: str, revision: str | None) -> tuple[str, list[str]]:
    """(commit, file paths) of the repository: from the hub, or offline from the cached snapshot."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import OfflineModeIsEnabled
    from requests.exceptions import ConnectionError as NoConnection
    from requests.exceptions import Timeout

    try:
        info = HfApi().model_info(repo_id, revision=revision)
        return str(info.sha), [sibling.rfilename for sibling in info.siblings or []]
    except (OfflineModeIsEnabled, NoConnection, Timeout):
        folder = Path(snapshot_download(repo_id, revision=revision, local_files_only=True))  # raises when nothing is cached
        return folder.name, sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _fetch(repo_id: str, sha: str, names: list[str]) -> Path:
    """The snapshot folder of ``sha`` holding ``names`` (each downloaded unless cached, with a progress bar)."""
    from huggingface_hub import snapshot_download

    logger.info("fetching %d files of %s@%s from the Hugging Face hub", len(names), repo_id, sha[:12])
    return Path(snapshot_download(repo_id, revision=sha, allow_patterns=names))


def _zsc_export(repo_id: str, sha: str) -> Path:
    folder = _fetch(repo_id, sha, [MANIFEST_NAME])
    manifest = Manifest.from_json(read_json(folder / MANIFEST_NAME))  # which files to fetch; load checks them all
    return _fetch(repo_id, sha, [MANIFEST_NAME, *manifest.files])


def _onnx_repository(repo_id: str, sha: str, files: list[str], graph: str) -> Path:
    """The repository's graph, config and tokenizer, seen as a plain model directory (links into
    the hub's cache: nothing is copied)."""
    wanted = [graph, *[f for f in files if f.startswith(graph + "_data") or f == graph + ".data"], CONFIG_FILE,
              *[f for f in TOKENIZER_FILES if f in files]]
    snapshot = _fetch(repo_id, sha, wanted)
    view = cache_root() / "hub" / _folder_name(repo_id) / sha
    view.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        target = view / ("model.onnx" + name[len(graph):] if name.startswith(graph) else name)
        if not target.is_symlink():
            target.symlink_to((snapshot / name).resolve())
    logger.warning("%s is an ONNX repository zsc did not export: its %s runs as it is, its batch invariance is unknown%s",
                   repo_id, graph, " (onnxruntime's dynamic int8: scores depend on the batch)" if "quantized" in graph else "")
    return view


def _exported_checkpoint(repo_id: str, sha: str, files: list[str], task: str) -> Path:
    options = ON_DEMAND_EXPORT | {"task": task}
    key = hashlib.sha256(json.dumps({"repo": repo_id, "revision": sha, **options}, sort_keys=True).encode()).hexdigest()[:16]
    output = cache_root() / "exports" / _folder_name(repo_id) / key
    if (output / MANIFEST_NAME).is_file():
        return output
    no_exporter = HubModelError(
        f"{repo_id} is a transformers checkpoint, not a zsc model directory: export it once with `zsc export {repo_id} DIR"
        f"{' --task embedding' if task == 'embedding' else ''}` and load DIR, or install the export extra "
        f"({install_hint('cpu,export')}) and zsc exports it into {cache_root()} on first use")
    exporter = _exporter(task)
    if exporter is None:
        raise no_exporter
    checkpoint = _fetch(repo_id, sha, checkpoint_files(files, task))
    logger.warning("exporting %s (%s) into %s, once", repo_id, sha[:12], output)
    try:
        exporter(str(checkpoint), output, repo_id, ON_DEMAND_EXPORT)
    except ImportError:  # zsc.export is installed, its stack (torch, transformers, optimum) is not
        raise no_exporter from None
    return output


def checkpoint_files(files: list[str], task: str = "nli") -> list[str]:
    """What an export of the checkpoint reads: its config, tokenizer files and one weights format
    (safetensors, else PyTorch's), never the other frameworks' weights or the rest of the repository."""
    root = [f for f in files if "/" not in f]
    safetensors = [f for f in root if f.endswith(".safetensors") or f == "model.safetensors.index.json"]
    weights = safetensors or [f for f in root if f.startswith("pytorch_model") and (f.endswith(".bin") or f.endswith(".bin.index.json"))]
    if not weights:
        raise HubModelError("the checkpoint has no safetensors or PyTorch weights at its root")
    extra = [f for f in SENTENCE_TRANSFORMERS_FILES if f in files] if task == "embedding" else []
    return [CONFIG_FILE, *[f for f in TOKENIZER_FILES if f in files], *extra, *weights]


def _exporter(task: str) -> Callable[[str, Path, str, dict[str, Any]], None] | None:
    from importlib.metadata import entry_points

    found = [entry for entry in entry_points(group=EXPORTER_GROUP) if entry.name == task]
    if not found:
        return None
    try:
        return found[0].load()
    except ImportError:  # a broken install of the export package
        return None


def _folder_name(repo_id: str) -> str:
    return repo_id.replace("/", "--")
