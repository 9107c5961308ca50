"""Where every export writes: a staging folder beside the output, then the last steps: record
the files' hashes in the manifest and move the finished directory into place (an old one is
removed only after that succeeds)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from zsc.engine.manifest import Manifest
from zsc.engine.model_files import MANIFEST_DIGEST_KEY, MANIFEST_NAME, manifest_digest, read_json, sha256_file, write_manifest

from .errors import OutputError


def checked_output(output: str | Path, force: bool, source: str | Path | None = None) -> Path:
    """The resolved output, checked before any work.

    An existing one needs ``force``, and even then only an empty directory or one exactly as zsc
    wrote it (``not_a_zsc_directory``) is replaced: never a file, the source checkpoint or a folder
    above it, the current directory or one above it, and never an empty path (an unset shell
    variable would otherwise name the current directory).
    """
    if not str(output).strip():
        raise OutputError("the output path is empty (an unset shell variable?); name the model directory to write")
    out = Path(output).expanduser().resolve()
    if not out.exists():
        return out
    if not force:
        raise FileExistsError(f"{out} already exists; pass --force (force=True) to replace it")
    refuse = f"--force will not replace {out}: it"
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise OutputError(f"{refuse} is the current directory or holds it; name a new directory")
    if source is not None and Path(source).expanduser().exists():
        src = Path(source).expanduser().resolve()
        if out == src or out in src.parents:
            raise OutputError(f"{refuse} {'is' if out == src else 'holds'} the source checkpoint {src}; write the export elsewhere")
    if not out.is_dir():
        raise OutputError(f"{refuse} is a file, not a model directory")
    if any(out.iterdir()):
        problem = not_a_zsc_directory(out)
        if problem is not None:
            raise OutputError(f"{refuse} {problem}; remove it yourself or name a new directory")
    return out


def not_a_zsc_directory(folder: Path) -> str | None:
    """Why ``folder`` is not a model directory exactly as zsc wrote it (None when it is): its
    zsc.json must be a manifest zsc wrote (its digest, format and schema), and the folder must
    hold nothing but the files that manifest lists, so that replacing it loses nothing of a user's."""
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return f"was not written by zsc (no {MANIFEST_NAME}) and is not empty"
    try:
        data = read_json(manifest_path)
        if data.get(MANIFEST_DIGEST_KEY) != manifest_digest(data) or not isinstance(data.get("zsc_version"), str):
            return f"has a {MANIFEST_NAME} that zsc did not write (no zsc_version, or its {MANIFEST_DIGEST_KEY} does not match)"
        manifest = Manifest.from_json(data)
        manifest.check()
    except (OSError, ValueError) as exc:
        return f"has a {MANIFEST_NAME} that is not a zsc manifest ({exc})"
    extra = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST_NAME and (p.name not in manifest.files or not p.is_file()))
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        return f"holds files that its {MANIFEST_NAME} does not list ({shown})"
    return None


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
    """Rename the finished directory into place; an old one is removed only after that succeeds.
    The old one waits in a new folder of zsc's own (a unique name beside ``out``), never in a
    path a user may already have."""
    staging.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary directory
    holder = None
    if out.exists():
        holder = Path(tempfile.mkdtemp(prefix=f".{out.name}.replaced-", dir=out.parent))
        out.rename(holder / out.name)
    try:
        staging.rename(out)
    except OSError:
        if holder is not None:
            (holder / out.name).rename(out)  # put the old directory back
            holder.rmdir()
        raise
    if holder is not None:
        shutil.rmtree(holder, ignore_errors=True)
