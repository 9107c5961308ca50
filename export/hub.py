"""The exporter the runtime calls for a hub checkpoint it cannot load as it is (found through the
``zsc.exporters`` entry point: the engine never imports zsc.export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .api import export_model
from .embedder import export_embedder


def export_nli(checkpoint: str, output: Path, source: str, options: dict[str, Any]) -> None:
    """Export a downloaded NLI checkpoint into ``output`` (a fresh folder of zsc's cache); an
    ImportError when the export stack is missing, as from export_model itself."""
    export_model(checkpoint, output, quantize=options["quantize"], optimize=options["optimize"], preset=options["preset"],
                 manifest_fields={"source": source})


def export_embedding(checkpoint: str, output: Path, source: str, options: dict[str, Any]) -> None:
    """Export a downloaded sentence embedder into ``output``."""

    export_embedder(checkpoint, output, quantize=options["quantize"], optimize=options["optimize"], preset=options["preset"])
