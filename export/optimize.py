"""Step 2 (optional): onnxruntime transformer fusions (attention, layer norm, GELU) via optimum."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import ConversionError

# Architectures on which onnxruntime's fusion pass stalls in its symbolic shape inference: on
# deberta-v3-base's If subgraphs it ran 12 minutes (10-18 GB) without finishing on 2 cores. They
# are fused without it (the fusions then skip the shape checks they cannot make).
NO_SHAPE_INFERENCE = frozenset({"deberta-v2"})


def optimize_graph(fp32_dir: Path, out_dir: Path, level: str, model_type: str | None = None) -> Path:
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import AutoOptimizationConfig

    # SkipLayerNormalization stays unfused: on CPU it is slower than the ops it replaces, and
    # CUDA's session fuses it at load (zsc.engine.session.UNFUSED_AT_LOAD).
    config = AutoOptimizationConfig.with_optimization_level(level, disable_shape_inference=model_type in NO_SHAPE_INFERENCE,
                                                            disable_skip_layer_norm_fusion=True)
    try:
        optimizer = ORTOptimizer.from_pretrained(fp32_dir, file_names=["model.onnx"])
        optimizer.optimize(save_dir=out_dir, optimization_config=config)
    except (KeyError, NotImplementedError, ValueError) as exc:
        raise ConversionError(f"graph optimisation {level} failed ({exc}); export with --optimize none") from exc
    produced = sorted(out_dir.glob("*.onnx"))
    if not produced:
        raise RuntimeError(f"optimum's optimizer wrote no graph into {out_dir}")
    graph = out_dir / "model.onnx"
    if produced[0] != graph:
        shutil.move(produced[0], graph)
    return graph


# Fused onnxruntime ops worth naming in the manifest: which patterns the optimiser recognised.
_FUSED_OPS = ("Attention", "MultiHeadAttention", "SkipLayerNormalization", "LayerNormalization", "EmbedLayerNormalization",
              "BiasGelu", "FastGelu", "Gelu", "SkipSimplifiedLayerNormalization")


def fused_ops(graph: Path) -> dict[str, int]:
    """How many of each fused op the optimised graph holds (absent ones omitted)."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    counts: dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type in _FUSED_OPS:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts
