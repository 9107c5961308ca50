"""Where every export writes: a staging folder beside the output, then the last steps: record
the files' hashes in the manifest and move the finished directory into place (an old one is
removed only after that succeeds)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from zsc.engine.model_dir import MANIFEST_NAME, Manifest, sha256_file, write_manifest


def checked_output(output: str | Path, force: bool, source: str | Path | None = None) -> Path:
    """The resolved output, checked before any work.

    An existing one needs ``force``, and even then only a directory zsc wrote (it holds a
    ``zsc.json``) or an empty one is replaced: never a file, the source checkpoint or a folder
    above it, the current directory or one above it, and never an empty path (an unset shell
    variable would otherwise name the current directory).
    """
    if not str(output).strip():
        raise ValueError("the output path is empty (an unset shell variable?); name the model directory to write")
    out = Path(output).expanduser().resolve()
    if not out.exists():
        return out
    if not force:
        raise FileExistsError(f"{out} already exists; pass --force (force=True) to replace it")
    refuse = f"--force will not replace {out}: it"
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise ValueError(f"{refuse} is the current directory or holds it; name a new directory")
    if source is not None and Path(source).expanduser().exists():
        src = Path(source).expanduser().resolve()
        if out == src or out in src.parents:
            raise ValueError(f"{refuse} {'is' if out == src else 'holds'} the source checkpoint {src}; write the export elsewhere")
    if not out.is_dir():
        raise ValueError(f"{refuse} is a file, not a model directory")
    if not (out / MANIFEST_NAME).is_file() and any(out.iterdir()):
        raise ValueError(f"{refuse} was not written by zsc (no {MANIFEST_NAME}) and is not empty; remove it yourself or "
                         "name a new directory")
    return out


def new_staging(out: Path) -> Path:
    """A fresh private folder beside ``out`` to build the directory in (renamed into place at the end)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))


def finalise_manifest(staging: Path, manifest: Manifest, parity: dict[str, dict[str, Any]]) -> Manifest:
    import onnx

    graph = onnx.load(str(staging / manifest.model_file), load_external_data=False)
    opset = next((o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")), None)
    files = {p.name: sha256_file(p) for p in sorted(staging.iterdir()) if p.is_file() and p.name != MANIFEST_NAME}
    values = manifest.to_json()
    values.update(
        input_names=[i.name for i in graph.graph.input],
        opset=opset,
        files=files,
        parity=parity,
    )
    final = Manifest.from_json(values)
    write_manifest(staging / MANIFEST_NAME, final.to_json())
    return final


def replace_directory(staging: Path, out: Path) -> None:
    """Rename the finished directory into place; an old one is removed only after that succeeds."""
    staging.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary directory
    backup = None
    if out.exists():
        backup = out.with_name(f".{out.name}.old")
        shutil.rmtree(backup, ignore_errors=True)
        out.rename(backup)
    staging.rename(out)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
