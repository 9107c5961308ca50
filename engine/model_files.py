"""The files of a model directory: their names, the JSON they hold and their sha256 digests
(the manifest's own and each listed file's)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger("zsc")


MANIFEST_NAME = "zsc.json"
MANIFEST_DIGEST_KEY = "manifest_sha256"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"
_SHA256_HEX = frozenset("0123456789abcdef")


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


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    """Write zsc.json with its digest (tools that edit a manifest call this too)."""
    data = {k: v for k, v in data.items() if k != MANIFEST_DIGEST_KEY}
    data[MANIFEST_DIGEST_KEY] = manifest_digest(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def manifest_digest(data: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own digest: edits to zsc.json show."""
    body = {k: v for k, v in data.items() if k != MANIFEST_DIGEST_KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


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
