"""Step 1: the fp32 ONNX graph, exported by optimum for task text-classification."""

from __future__ import annotations

from pathlib import Path

from .source import SourceModel


def export_fp32(source: SourceModel, work_dir: Path, opset: int | None = None) -> Path:
    from optimum.exporters.onnx import main_export

    main_export(
        source.name,
        output=work_dir,
        task="text-classification",
        opset=opset,
        do_validation=False,  # zsc validates against torch itself, on NLI pairs
        device="cpu",
    )
    graph = work_dir / "model.onnx"
    if not graph.exists():
        raise RuntimeError(f"optimum wrote no model.onnx into {work_dir}")
    return graph
