"""Batch-invariant 8-bit: int8 weights per output channel, activations quantised per row.

Dynamic int8 (onnxruntime's ``quantize_dynamic``) computes one activation scale for a whole
batch tensor, so a text's scores move with its batch-mates and one outlier token coarsens
every other token's grid. This pass gives each row (one token of one pair) its own scale:

    s = max|x_row| / 127,  x_q = round(x / s) + 128 (uint8, zero point 128)
    y = MatMulIntegerToFloat(x_q, W_q, a_zero=128, b_scale=w_scale) * s

The integer product is exact, so a row's result depends on that row alone: the scores of a
text never depend on what else is in the batch. Inputs that come out of GELU/ReLU are one-sided,
so their rows use an asymmetric grid (a zero point per row) instead of wasting half the levels. It keeps onnxruntime's integer GEMM
(MLAS) and adds only a few element-wise ops per MatMul.

The weight type follows the CPU (see presets): AVX2 without VNNI multiplies u8 x s8 pairs
into saturating int16 (``vpmaddubsw``), so there the weights are stored as uint8 with a zero
point of 128 (the u8 x u8 kernel widens to int16 first and cannot saturate), keeping all
8 bits instead of the 7 that ``reduce_range`` leaves. VNNI and arm64 use int8 weights.

The fused ``Attention`` op keeps its QKV projection inside, where no per-row scheme can
reach it; it is split into one MatMul (quantised like the others) and an attention core: ONNX's
own ``Attention`` (opset 23) with a boolean key mask where the fused op read key lengths summed
from a 2-D mask (BERT-like graphs): the contrib ``MultiHeadAttention``'s logits to the bit, in 25%
less time on CPU (onnxruntime's MultiHeadAttention kernel turns key lengths into a float mask and
leaves its flash path); ``MultiHeadAttention`` otherwise.
The word-embedding table is stored as int8 with one scale per row (token), gathered and then
scaled. Everything else (layer norms, biases, the classification head) stays fp32.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConversionError, OptionError
from .onnx_nodes import attribute, reduction_axes

logger = logging.getLogger("zsc.export")

# Tables smaller than this (position and token-type embeddings) are not worth quantising.
MIN_GATHER_ELEMENTS = 1 << 20
_SCALE_FLOOR = 1e-12  # an all-zero row gets this scale and quantises to the zero point
UINT8_WEIGHT_OFFSET = 128  # uint8 weights store q + 128 (the int8 twin subtracts it back)
QUANTIZE_OPSET = 21
ATTENTION_OPSET = 23  # ONNX's own Attention op (onnxruntime >= 1.23 runs it on CPU)
# Names of the nodes that rebuild float weights in a weights-only graph (they must stay fp32 so
# that onnxruntime's CPU-run constant folding can fold them, see quantize.derive_fp16_from_int8).
DEQUANTISED_PREFIX = "dequantised"
# Attention attributes that MultiHeadAttention reproduces; anything else keeps the fused op.
_SPLITTABLE_ATTENTION_ATTRS = {"num_heads", "mask_filter_value", "scale"}


@dataclass(frozen=True)
class Grid:
    """The integer ranges of the scheme: 8 bits for weights and activations (the default).

    Seven bits on one side keep every u8 x s8 byte pair below int16's limit (2 * 255 * 63 and
    2 * 127 * 127 are under 32767), so AVX2's fast u8 x s8 kernel cannot saturate: the
    candidates ``benchmarks/int8_sensitivity.py`` measures against the full 8-bit grid.
    """

    weight_bits: int = 8
    activation_bits: int = 8

    def __post_init__(self) -> None:
        if self.weight_bits not in (7, 8) or self.activation_bits not in (7, 8):
            raise OptionError(f"per-row int8 takes 7 or 8 bits for weights and activations, got {self}")

    @property
    def weight_levels(self) -> int:
        return 2 ** (self.weight_bits - 1) - 1  # 127: symmetric, -127..127

    @property
    def symmetric_levels(self) -> float:
        return 2.0 ** (self.activation_bits - 1) - 1  # a symmetric row spans zero point +- 127

    @property
    def activation_zero(self) -> int:
        return 2 ** (self.activation_bits - 1)  # 128

    @property
    def asymmetric_levels(self) -> float:
        return 2.0 ** self.activation_bits - 1  # an asymmetric row maps [min, max] onto 0..255


EIGHT_BIT = Grid()


@dataclass(frozen=True)
class QuantWeight:
    """Initializer names of one quantised weight (K rows, N columns)."""

    q: str  # uint8 or int8 values
    scale: str  # float (N,): one scale per output column
    zero: str  # (N,): the stored zero point (128 for uint8, 0 for int8)
    column_sums: str  # float (N,): scale * sum over K of the signed values, for an activation zero point
    rows: int


@dataclass
class _Rewrite:
    """New nodes and initializers collected while walking the graph."""

    prefix_count: int = 0
    initializers: list[Any] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)  # shared scalar constants, by key
    key_masks: dict[str, str] = field(default_factory=dict)  # 2-D attention mask -> its (B, 1, S, S) boolean form

    def name(self, base: str) -> str:
        self.prefix_count += 1
        return f"zsc_pr{self.prefix_count}_{base}"


def quantize_per_row(graph_path: Path, out_path: Path, weight_type: str, keep_fp32: Collection[str] = (),
                     smoothing: dict[str, np.ndarray] | None = None, weights_only: bool = False,
                     grid: Grid = EIGHT_BIT) -> dict[str, int]:
    """Rewrite ``graph_path`` (fp32, optionally fused) into per-row 8-bit at ``out_path``.

    ``weight_type`` is ``"uint8"`` (AVX2) or ``"int8"`` (VNNI, arm64); nodes named in ``keep_fp32``
    stay as they are. Returns counts of what was quantised, for the log and the manifest.
    """
    import onnx

    if weight_type not in ("uint8", "int8"):
        raise OptionError(f"weight_type must be 'uint8' or 'int8', got {weight_type!r}")
    model = _at_opset(onnx.load(str(graph_path)), QUANTIZE_OPSET)
    counts = rewrite_model(model, weight_type, keep_fp32, smoothing or {}, weights_only, grid)
    _ensure_opsets(model)
    onnx.save(model, str(out_path))
    logger.info("per-row int8: %s", counts)
    return counts


def rewrite_model(model: Any, weight_type: str, keep_fp32: Collection[str] = (), smoothing: dict[str, np.ndarray] | None = None,
                  weights_only: bool = False, grid: Grid = EIGHT_BIT) -> dict[str, int]:
    """Rewrite ``model`` in place. ``weights_only`` keeps float activations: each quantised weight
    is dequantised in the graph (DequantizeLinear on the same 8-bit initializers, by name and
    value, as the per-row graph stores), which onnxruntime folds into a float constant at load.
    That graph turns into an fp16 graph for CUDA sharing the int8 graph's weight bytes
    (quantize.derive_fp16_from_int8)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    rewrite = _Rewrite()
    # What was quantised, and what stays fp32 (MatMuls of two activations, Attention ops
    # MultiHeadAttention cannot reproduce): the export records both in the manifest.
    counts = {"matmul": 0, "attention_split": 0, "gather": 0, "matmul_fp32": 0, "attention_fp32": 0}
    replaced_weights: set[str] = set()
    new_nodes: list[Any] = []
    quantised: dict[str, QuantWeight] = {}  # weight (and smoothing) -> its quantised initializers
    divided: dict[str, str] = {}  # activation -> the same divided by its smoothing factors
    smoothing = smoothing or {}

    def quantised_weight(name: str, activation: str) -> QuantWeight:
        key = f"{name}@{activation}" if activation in smoothing else name
        if key not in quantised:
            array = numpy_helper.to_array(weights[name]).astype(np.float32)
            if activation in smoothing:
                array = array * smoothing[activation][:, None]
            quantised[key] = _add_weight(rewrite, key.replace("@", "_s_").replace("/", "_"), array, weight_type, grid.weight_levels)
            replaced_weights.add(name)
        return quantised[key]

    def smoothed(activation: str) -> str:
        """The activation divided by its smoothing factors (SmoothQuant), computed once per activation."""
        if activation not in smoothing:
            return activation
        if activation not in divided:
            divided[activation] = rewrite.name("smoothed")
            inverse = _constant(rewrite, f"inv_smooth_{divided[activation]}", (1.0 / smoothing[activation]).astype(np.float32))
            new_nodes.append(helper.make_node("Mul", [activation, inverse], [divided[activation]]))
        return divided[activation]

    def dequantised(name: str, activation: str) -> str:
        """The float weight rebuilt from its 8-bit form, smoothing undone (all constants: folded at load)."""
        weight = quantised_weight(name, activation)
        out = rewrite.name(DEQUANTISED_PREFIX)
        new_nodes.append(helper.make_node("DequantizeLinear", [weight.q, weight.scale, weight.zero], [out], name=out, axis=1))
        if activation not in smoothing:
            return out
        unsmoothed = rewrite.name(DEQUANTISED_PREFIX + "_unsmoothed")
        inverse = _constant(rewrite, f"inv_smooth_col_{out}", (1.0 / smoothing[activation]).astype(np.float32)[:, None])
        new_nodes.append(helper.make_node("Mul", [out, inverse], [unsmoothed], name=unsmoothed))
        return unsmoothed

    one_sided = _one_sided_activations(graph)
    producers = {output: node for node in graph.node for output in node.output}
    for node in graph.node:
        if node.name in keep_fp32:
            new_nodes.append(node)
        elif weights_only and (node.op_type == "MatMul" and _is_2d_weight(node.input[1], weights) or (
                node.op_type == "Attention" and node.domain == "com.microsoft" and _splittable(node, weights))):
            node.input[1] = dequantised(node.input[1], node.input[0])
            new_nodes.append(node)
            counts["matmul"] += 1
        elif node.op_type == "MatMul" and _is_2d_weight(node.input[1], weights):
            new_nodes.extend(_per_row_matmul(rewrite, smoothed(node.input[0]), quantised_weight(node.input[1], node.input[0]),
                                             node.output[0], grid, asymmetric=node.input[0] in one_sided))
            counts["matmul"] += 1
        elif node.op_type == "Attention" and node.domain == "com.microsoft" and _splittable(node, weights):
            qkv = rewrite.name("qkv")
            new_nodes.extend(_per_row_matmul(rewrite, smoothed(node.input[0]), quantised_weight(node.input[1], node.input[0]), qkv, grid))
            new_nodes.extend(_attention_core(rewrite, node, qkv, producers, weights))
            replaced_weights.add(node.input[1])
            counts["attention_split"] += 1
            counts["matmul"] += 1
        elif node.op_type == "Gather" and _is_big_table(node.input[0], weights):
            new_nodes.extend(_per_row_gather(rewrite, node, numpy_helper.to_array(weights[node.input[0]])))
            replaced_weights.add(node.input[0])
            counts["gather"] += 1
        else:
            if node.op_type == "MatMul":
                counts["matmul_fp32"] += 1
            elif node.op_type == "Attention" and node.domain == "com.microsoft":
                counts["attention_fp32"] += 1
            new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    if any(n.op_type == "Attention" and n.domain in ("", "ai.onnx") for n in new_nodes):
        _raise_default_opset(model, ATTENTION_OPSET)
    still_read = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name not in replaced_weights or t.name in still_read]
    del graph.initializer[:]
    graph.initializer.extend(kept + [t for t in rewrite.initializers if t.name in still_read])
    return counts


# Ops whose outputs are (almost) one-sided: GELU's minimum is -0.17, ReLU's 0.
_ONE_SIDED_OPS = {"BiasGelu", "Gelu", "FastGelu", "QuickGelu", "Relu"}


def quantised_inputs(model: Any) -> dict[str, str]:
    """Activation name -> weight name, for every MatMul/Attention this pass quantises (what
    calibration measures)."""
    weights = {t.name: t for t in model.graph.initializer}
    found = {}
    for node in model.graph.node:
        if (node.op_type == "MatMul" and _is_2d_weight(node.input[1], weights)) or (
            node.op_type == "Attention" and node.domain == "com.microsoft" and _splittable(node, weights)
        ):
            found[node.input[0]] = node.input[1]
    return found


def _one_sided_activations(graph: Any) -> set[str]:
    """Tensors produced by GELU/ReLU, fused or not (an unfused GELU ends in the act_fn's Mul)."""
    found = set()
    for node in graph.node:
        if node.op_type in _ONE_SIDED_OPS or (node.op_type == "Mul" and "act_fn" in node.name):
            found.update(node.output)
    return found


def _is_2d_weight(name: str, weights: dict[str, Any]) -> bool:
    tensor = weights.get(name)
    return tensor is not None and len(tensor.dims) == 2 and tensor.data_type == 1  # FLOAT


def _is_big_table(name: str, weights: dict[str, Any]) -> bool:
    return _is_2d_weight(name, weights) and int(np.prod(weights[name].dims)) >= MIN_GATHER_ELEMENTS


def _splittable(node: Any, weights: dict[str, Any]) -> bool:
    """A plain self-attention: constant QKV weight and bias, optional 1-D/2-D mask, no past."""
    attrs = {a.name for a in node.attribute}
    inputs = list(node.input)
    return (
        attrs <= _SPLITTABLE_ATTENTION_ATTRS
        and 3 <= len(inputs) <= 4
        and _is_2d_weight(inputs[1], weights)
        and inputs[2] in weights
        and weights[inputs[1]].dims[1] % 3 == 0
    )


def _constant(rewrite: _Rewrite, key: str, array: np.ndarray) -> str:
    from onnx import numpy_helper

    if key not in rewrite.constants:
        name = f"zsc_pr_const_{key}"
        rewrite.initializers.append(numpy_helper.from_array(array, name))
        rewrite.constants[key] = name
    return rewrite.constants[key]


def _add_weight(rewrite: _Rewrite, name: str, weight: np.ndarray, weight_type: str, levels: int) -> QuantWeight:
    """Symmetric per-output-channel weights within +-levels; uint8 storage shifts them by 128."""
    from onnx import numpy_helper

    scale = np.maximum(np.abs(weight).max(axis=0), _SCALE_FLOOR) / levels
    q = np.clip(np.round(weight / scale), -levels, levels).astype(np.int16)
    columns = weight.shape[1]
    column_sums = (q.astype(np.float64).sum(axis=0) * scale).astype(np.float32)
    if weight_type == "uint8":
        stored, zero = (q + UINT8_WEIGHT_OFFSET).astype(np.uint8), np.full(columns, UINT8_WEIGHT_OFFSET, np.uint8)
    else:
        stored, zero = q.astype(np.int8), np.zeros(columns, np.int8)
    names = QuantWeight(f"{name}_zsc_q", f"{name}_zsc_scale", f"{name}_zsc_zero", f"{name}_zsc_colsum", weight.shape[0])
    rewrite.initializers += [
        numpy_helper.from_array(stored, names.q),
        numpy_helper.from_array(scale.astype(np.float32), names.scale),
        numpy_helper.from_array(zero, names.zero),
        numpy_helper.from_array(column_sums, names.column_sums),
    ]
    return names


def _per_row_matmul(rewrite: _Rewrite, x: str, weight: QuantWeight, y: str, grid: Grid, asymmetric: bool = False) -> list[Any]:
    """y = x (..., K) @ W (K, N), with one activation scale per row of x (a block of K values).

    With the 8-bit grid, symmetric rows (zero point 128) suit centred activations such as layer-norm outputs.
    ``asymmetric`` rows map [min, max] onto all 256 levels with a zero point per row, for
    one-sided activations (GELU outputs, at least -0.17), where a symmetric grid would leave
    half its levels unused. MatMulIntegerToFloat takes only a scalar activation zero point, so
    the product runs with zero point 0 and z_row * column_sums is subtracted afterwards.
    """
    from onnx import helper

    last = _constant(rewrite, "i64_minus_one", np.array([-1], np.int64))
    floor = _constant(rewrite, "floor", np.array(_SCALE_FLOOR, np.float32))
    one = _constant(rewrite, "one", np.array(1.0, np.float32))
    n = rewrite.name
    scale, zeros, xq, prod = n("scale"), n("zeros"), n("xq"), n("prod")
    if asymmetric:
        high, low, high0, low0, span, raw, neg_low, zero_raw, zero_f = (
            n(p) for p in ("high", "low", "high0", "low0", "span", "raw_scale", "neg_low", "zero_raw", "zero_f"))
        zero_scalar = _constant(rewrite, "f32_zero", np.array(0.0, np.float32))
        inv_range = _constant(rewrite, "inv_u8_levels", np.array(1.0 / grid.asymmetric_levels, np.float32))
        u8_zero = _constant(rewrite, "u8_zero", np.array(0, np.uint8))
        shifted, correction = n("shifted"), n("correction")
        return [
            helper.make_node("ReduceMax", [x, last], [high], keepdims=1),
            helper.make_node("ReduceMin", [x, last], [low], keepdims=1),
            # The grid must hold 0 exactly (padding rows, ReLU zeros).
            helper.make_node("Max", [high, zero_scalar], [high0]),
            helper.make_node("Min", [low, zero_scalar], [low0]),
            helper.make_node("Sub", [high0, low0], [span]),
            helper.make_node("Mul", [span, inv_range], [raw]),
            helper.make_node("Max", [raw, floor], [scale]),
            helper.make_node("Neg", [low0], [neg_low]),
            helper.make_node("Div", [neg_low, scale], [zero_raw]),
            helper.make_node("Round", [zero_raw], [zero_f]),
            helper.make_node("Cast", [zero_f], [zeros], to=2),  # UINT8
            helper.make_node("QuantizeLinear", [x, scale, zeros], [xq], axis=-1, block_size=weight.rows),
            helper.make_node("MatMulIntegerToFloat", [xq, weight.q, one, weight.scale, u8_zero, weight.zero], [prod], domain="com.microsoft"),
            helper.make_node("Mul", [zero_f, weight.column_sums], [correction]),
            helper.make_node("Sub", [prod, correction], [shifted]),
            helper.make_node("Mul", [shifted, scale], [y]),
        ]
    inv_levels = _constant(rewrite, "inv_levels", np.array(1.0 / grid.symmetric_levels, np.float32))
    zero = _constant(rewrite, "act_zero", np.array(grid.activation_zero, np.uint8))
    absx, peak, raw, zshape = n("abs"), n("peak"), n("raw_scale"), n("zshape")
    return [
        helper.make_node("Abs", [x], [absx]),
        helper.make_node("ReduceMax", [absx, last], [peak], keepdims=1),
        helper.make_node("Mul", [peak, inv_levels], [raw]),
        helper.make_node("Max", [raw, floor], [scale]),
        helper.make_node("Shape", [scale], [zshape]),
        helper.make_node("Expand", [zero, zshape], [zeros]),
        # Blocked quantisation (opset 21) with one block per row: a scale per row, no reshapes.
        helper.make_node("QuantizeLinear", [x, scale, zeros], [xq], axis=-1, block_size=weight.rows),
        helper.make_node("MatMulIntegerToFloat", [xq, weight.q, one, weight.scale, zero, weight.zero], [prod], domain="com.microsoft"),
        helper.make_node("Mul", [prod, scale], [y]),
    ]


def _attention_core(rewrite: _Rewrite, node: Any, qkv: str, producers: dict[str, Any], weights: dict[str, Any]) -> list[Any]:
    """The fused Attention's core, fed by the projected QKV: ONNX's Attention where the key mask
    can be read as a boolean one (or there is none), MultiHeadAttention (bias added inside) otherwise."""
    from onnx import helper

    mask = node.input[3] if len(node.input) > 3 else ""
    key_mask: tuple[list[Any], str] | None = ([], "")  # no mask: every key takes part
    if mask:
        key_mask = _boolean_key_mask(rewrite, producers[mask], weights) if mask in producers else None
    if key_mask is None:
        return _multi_head_attention(rewrite, node, qkv)
    mask_nodes, mask4 = key_mask
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    heads = attrs["num_heads"]
    extra = {"scale": attrs["scale"]} if "scale" in attrs else {}  # a boolean mask needs no mask_filter_value
    n = rewrite.name
    biased, q, k, v = n("qkv_biased"), n("q"), n("k"), n("v")
    return [
        *mask_nodes,
        helper.make_node("Add", [qkv, node.input[2]], [biased]),
        helper.make_node("Split", [biased], [q, k, v], axis=-1, num_outputs=3),
        helper.make_node("Attention", [q, k, v] + ([mask4] if mask4 else []), list(node.output),
                         q_num_heads=heads, kv_num_heads=heads, **extra),
    ]


def _boolean_key_mask(rewrite: _Rewrite, mask_source: Any, weights: dict[str, Any]) -> tuple[list[Any], str] | None:
    """The (B, 1, S, S) boolean mask ONNX's Attention takes, built once per graph from the 2-D mask
    that the fused op's key lengths were summed from (ReduceSum over axis 1): the nodes still to
    emit (none once built) and its name; None where the key mask is anything else."""
    from onnx import helper, numpy_helper

    if mask_source.op_type != "ReduceSum" or attribute(mask_source, "keepdims", 1) != 0:
        return None
    if reduction_axes(mask_source, lambda name: numpy_helper.to_array(weights[name]) if name in weights else None) not in ([1], [-1]):
        return None
    mask2d = mask_source.input[0]
    if mask2d in rewrite.key_masks:
        return [], rewrite.key_masks[mask2d]
    n = rewrite.name
    flags, flags4, shape, length, target, mask4 = n("key_flags"), n("key_flags4"), n("mask_shape"), n("mask_length"), n("mask_target"), n("key_mask")
    middle = _constant(rewrite, "i64_axes_1_2", np.array([1, 2], np.int64))
    one, two = _constant(rewrite, "i64_one", np.array([1], np.int64)), _constant(rewrite, "i64_two", np.array([2], np.int64))
    ones = _constant(rewrite, "i64_ones_2", np.array([1, 1], np.int64))
    rewrite.key_masks[mask2d] = mask4
    return [
        helper.make_node("Cast", [mask2d], [flags], to=9),  # BOOL: a key takes part where the mask is non-zero
        helper.make_node("Unsqueeze", [flags, middle], [flags4]),  # (B, 1, 1, S)
        helper.make_node("Shape", [mask2d], [shape]),
        helper.make_node("Slice", [shape, one, two], [length]),
        helper.make_node("Concat", [ones, length, one], [target], axis=0),  # [1, 1, S, 1]
        helper.make_node("Expand", [flags4, target], [mask4]),  # (B, 1, S, S): onnxruntime wants the query axis spelt out
    ], mask4


def _multi_head_attention(rewrite: _Rewrite, node: Any, qkv: str) -> list[Any]:
    """The fused Attention's core, fed by the projected QKV (bias added inside, as before)."""
    from onnx import helper

    n = rewrite.name
    q, k, v = n("q"), n("k"), n("v")
    inputs = [q, k, v, node.input[2]] + ([node.input[3]] if len(node.input) > 3 and node.input[3] else [])
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return [
        helper.make_node("Split", [qkv], [q, k, v], axis=-1, num_outputs=3),
        helper.make_node("MultiHeadAttention", inputs, list(node.output), domain="com.microsoft", **attrs),
    ]


def _per_row_gather(rewrite: _Rewrite, node: Any, table: np.ndarray) -> list[Any]:
    """Embedding lookup from an int8 table with one scale per row (token)."""
    from onnx import helper, numpy_helper

    table = table.astype(np.float32)
    scale = np.maximum(np.abs(table).max(axis=1), _SCALE_FLOOR) / 127.0
    q = np.clip(np.round(table / scale[:, None]), -127, 127).astype(np.int8)
    q_name, s_name = f"{node.input[0]}_zsc_q", f"{node.input[0]}_zsc_scale"
    rewrite.initializers += [numpy_helper.from_array(q, q_name), numpy_helper.from_array(scale.astype(np.float32), s_name)]
    n = rewrite.name
    rows, row_scale, as_float, scale_col = n("rows"), n("row_scale"), n("rows_f"), n("row_scale_col")
    last_axis = _constant(rewrite, "i64_minus_one", np.array([-1], np.int64))
    return [
        helper.make_node("Gather", [q_name, node.input[1]], [rows], axis=0),
        helper.make_node("Gather", [s_name, node.input[1]], [row_scale], axis=0),
        helper.make_node("Cast", [rows], [as_float], to=1),
        helper.make_node("Unsqueeze", [row_scale, last_axis], [scale_col]),
        helper.make_node("Mul", [as_float, scale_col], list(node.output)),
    ]


def _at_opset(model: Any, version: int) -> Any:
    """The model at ``version`` of the default domain (blocked QuantizeLinear needs 21)."""
    from onnx import version_converter

    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if current is None or current >= version:
        return model
    try:
        return version_converter.convert_version(model, version)
    except Exception as exc:  # the converter raises bare RuntimeErrors for ops it cannot move
        raise ConversionError(f"per-row int8 needs opset {version}; converting this opset-{current} graph failed ({exc}); "
                         f"export with --opset {version}") from exc


def _raise_default_opset(model: Any, version: int) -> None:
    """ONNX's Attention needs opset 23; the ops this graph holds at 21 read the same there (their
    later versions only add types), so the import is raised without converting."""
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < version:
            opset.version = version


def _ensure_opsets(model: Any) -> None:
    """Split with num_outputs needs opset 18, blocked QuantizeLinear 21; the contrib ops need com.microsoft."""
    from onnx import helper

    domains = {o.domain: o for o in model.opset_import}
    if "com.microsoft" not in domains:
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
