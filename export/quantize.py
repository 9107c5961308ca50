"""Step 3 (optional): int8 (per-row, batch-invariant), dynamic int8, or fp16."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .per_row import DEQUANTISED_PREFIX, quantize_per_row
from .presets import QuantPreset

# Fused Attention quantises to QAttention and Gather (the embedding table, most of the bytes)
# to int8 + DequantizeLinear. The classification head (Gemm) stays fp32: it is
# tiny, and keeping it exact costs nothing.
INT8_OPS = ["MatMul", "Attention", "Gather"]


def quantize_int8_per_row(graph: Path, out_path: Path, preset: QuantPreset, smoothing: dict | None = None) -> dict[str, int]:
    """Per-row int8 (see per_row.py), with SmoothQuant factors when calibration gave them; returns
    the counts of what the pass quantised and left in fp32."""

    return quantize_per_row(graph, out_path, preset.per_row_weights, smoothing=smoothing)


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


def derive_fp16_from_int8(graph: Path, out_path: Path, preset: QuantPreset, smoothing: dict | None = None) -> Path:
    """An fp16 graph for CUDA whose big weights are the per-row int8 graph's 8-bit ones,
    dequantised in the graph (folded into fp16 constants when onnxruntime loads it).

    ``graph`` is the fp32 graph the int8 one was quantised from, with the same smoothing: the
    8-bit initializers come out identical by name and value, so ``share_weights`` can point
    both graphs at one copy of the bytes.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16


    quantize_per_row(graph, out_path, preset.per_row_weights, smoothing=smoothing, weights_only=True)
    model = onnx.load(str(out_path))
    # The weight-rebuilding nodes stay fp32 with a Cast to fp16 after them: onnxruntime folds
    # constants with CPU kernels, which exist for fp32 DequantizeLinear/Mul but not fp16 Mul.
    rebuilding = [n.name for n in model.graph.node if n.name.startswith("zsc_pr") and DEQUANTISED_PREFIX in n.name]
    converted = convert_float_to_float16(model, keep_io_types=True, node_block_list=rebuilding)
    onnx.save(converted, str(out_path))
    return out_path


# Tensors from this size up move to the shared weights file (small ones stay inside each graph).
_SHARED_TENSOR_BYTES = 1024


def share_weights(primary: Path, others: list[Path], weights_file: str) -> int:
    """Move ``primary``'s large initializers into ``weights_file`` beside it and point every
    identical initializer (same name, type and value) of ``others`` at those bytes.

    Returns the bytes the other graphs no longer carry. onnxruntime reads external data relative
    to each graph's folder, so the graphs and the weights file stay together.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(primary))
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    onnx.save(model, str(primary), save_as_external_data=True, all_tensors_to_one_file=True, location=weights_file,
              size_threshold=_SHARED_TENSOR_BYTES)
    stored = {t.name: t for t in onnx.load(str(primary), load_external_data=False).graph.initializer
              if t.data_location == onnx.TensorProto.EXTERNAL}
    saved = 0
    for path in others:
        other = onnx.load(str(path))
        for tensor in other.graph.initializer:
            reference = stored.get(tensor.name)
            if reference is None or tensor.data_type != reference.data_type:
                continue
            array = numpy_helper.to_array(tensor)
            if array.shape != values[tensor.name].shape or not np.array_equal(array, values[tensor.name]):
                continue
            saved += array.nbytes
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            del tensor.external_data[:]
            tensor.external_data.extend(reference.external_data)
        onnx.save(other, str(path))
    (primary.parent / weights_file).chmod(0o644)  # onnx creates it private; a model directory is shared
    return saved
