"""Read and verify an exported model directory.

A model directory holds ``model.onnx``, ``tokenizer.json``, ``config.json`` and the
manifest ``zsc.json`` written by ``zsc export``. A plain optimum export (no manifest)
is accepted too: its settings are derived the way transformers' pipeline derives them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from .hf_config import manifest_from_hf_files
from .manifest import GraphVariant, Manifest
from .model_files import CONFIG_FILE, MANIFEST_NAME, MODEL_FILE, TOKENIZER_FILE, read_json, verify_hashes, verify_manifest_digest

logger = logging.getLogger("zsc")


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

    @classmethod
    def of_graph(cls, graph: Path, manifest: Manifest) -> tuple[ModelDirectory, list[GraphVariant]]:
        """One graph file (of ``manifest.precision``) as a directory of its own, with no other
        graph and no twin: what the exporter runs before it writes a directory."""
        directory = cls(graph.parent, replace(manifest, model_file=graph.name, variants=[], int8_view={}))
        return directory, [GraphVariant(manifest.precision, graph.name)]


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
