"""Step 3 (optional): int8 (per-row, batch-invariant), dynamic int8, or fp16."""

from __future__ import annotations

from pathlib import Path

from .presets import QuantPreset

# Fused Attention quantises to QAttention and Gather (the embedding table, most of the bytes)
# to int8 + DequantizeLinear. The classification head (Gemm) stays fp32: it is
# tiny, and keeping it exact costs nothing.
INT8_OPS = ["MatMul", "Attention", "Gather"]


def quantize_int8_per_row(graph: Path, out_path: Path, preset: QuantPreset, smoothing: dict | None = None) -> Path:
    """Per-row int8 (see per_row.py), with SmoothQuant factors when calibration gave them."""
    from .per_row import quantize_per_row

    quantize_per_row(graph, out_path, preset.per_row_weights, smoothing=smoothing)
    return out_path


def quantize_int8_dynamic(graph: Path, out_path: Path, preset: QuantPreset, exclude: list[str] | None = None) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        model_input=graph,
        model_output=out_path,
        per_channel=preset.per_channel,
        reduce_range=preset.reduce_range,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=INT8_OPS,
        nodes_to_exclude=exclude or [],
        # Fused com.microsoft ops defeat ONNX shape inference; their outputs are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return out_path


def convert_fp16(graph: Path, out_path: Path) -> Path:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(graph))
    # Inputs and logits stay int64/float32 so the runtime feeds the same arrays.
    converted = convert_float_to_float16(model, keep_io_types=True)
    onnx.save(converted, str(out_path))
    return out_path
