"""Finding models: the embedded default and its embedder, local directories, hub ids (downloaded
on first use), and the warning a loaded int8 graph may deserve on this CPU."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from .cpu import has_int8_dot_products

logger = logging.getLogger("zsc")


def default_model_path() -> Path:
    """The embedded per-row int8 NLI model (minilm-l6-nli), shipped inside the package."""
    path = Path(str(resources.files("zsc.engine.models") / "default"))
    if not (path / "model.onnx").exists():
        raise FileNotFoundError(
            f"the embedded default model is missing from {path}; build it with `make default-model` "
            "or pass a model directory"
        )
    return path


def default_embedder_path() -> Path | None:
    """The embedded sentence embedder (all-MiniLM-L6-v2, int8), where this install has it."""
    path = Path(str(resources.files("zsc.engine.models") / "embedder"))
    return path if (path / "model.onnx").exists() else None


def local_model_path(path: str | Path, task: str = "nli", revision: str | None = None) -> Path:
    """A model directory on disk: ``path`` itself, or for a hub id ("org/name") one fetched (or
    exported) once, as zsc.engine.hub says. A path-like name that does not exist raises
    FileNotFoundError, never a hub lookup."""
    local = Path(path).expanduser()
    if local.exists():
        return local
    if not looks_like_hub_id(str(path)):
        raise FileNotFoundError(f"model directory not found: {local}")
    return _from_hub(str(path), task, revision)


def looks_like_hub_id(name: str) -> bool:
    """True for an "org/name" that cannot be a local path.

    No ./, ../, / or ~ prefix, no backslash, and no local folder "org": "out/x" next to an
    existing out/ is a mistyped path, not a hub id.
    """
    parts = name.split("/")
    return (
        len(parts) == 2 and all(parts) and "\\" not in name
        and not name.startswith((".", "~")) and not Path(parts[0]).exists()
    )


def _from_hub(repo_id: str, task: str, revision: str | None) -> Path:
    from .hub import HubModelError, hub_model_path

    try:
        return hub_model_path(repo_id, task, revision)
    except HubModelError:
        raise
    except ImportError as exc:  # pragma: no cover - tokenizers depends on huggingface_hub
        raise ValueError(f"{repo_id} is not a local directory and huggingface_hub is not installed") from exc
    except Exception as exc:  # offline, unknown repo, no access: one message for both readings of the name
        raise FileNotFoundError(
            f"{repo_id}: no local model directory {Path(repo_id).expanduser().resolve()}, and the Hugging Face hub lookup "
            f"of {repo_id!r} failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})"
        ) from None


def warn_if_int8_saturates(precision: str, preset: str | None, compute: str) -> None:
    """int8 weights made for VNNI/arm64 can overflow AVX2's 16-bit u8 x s8 products: say so loudly."""
    if precision.startswith("int8") and preset in ("avx512_vnni", "arm64") and compute == "cpu" and not has_int8_dot_products():
        logger.warning(
            "this %s model was exported with the %s preset, whose 8-bit weights can saturate on a CPU without "
            "VNNI like this one (scores may be wrong); re-export with --preset avx2, which is correct on every CPU",
            precision, preset,
        )
