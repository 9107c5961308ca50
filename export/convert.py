"""Step 1: the fp32 ONNX graph, exported by optimum for the task's optimum task
(text-classification for an NLI model, feature-extraction for an embedder)."""

from __future__ import annotations

from pathlib import Path


def export_fp32(source: str, work_dir: Path, optimum_task: str, opset: int | None = None) -> Path:
    from optimum.exporters.onnx import main_export

    main_export(
        source,
        output=work_dir,
        task=optimum_task,
        opset=opset,
        do_validation=False,  # zsc validates against torch itself
        device="cpu",
    )
    graph = work_dir / "model.onnx"
    if not graph.exists():
        raise RuntimeError(f"optimum wrote no model.onnx into {work_dir}")
    return graph
