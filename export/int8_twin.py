"""The per-row int8 graph's twin for CPUs with 8-bit dot products (VNNI, arm64).

The portable int8 graph stores its weights as uint8 with zero point 128 (``per_row``), which
AVX2 without VNNI multiplies without int16 saturation. Where the CPU has 8-bit dot products,
onnxruntime's u8 x s8 kernel is the fast one, so the directory also gets a small twin graph that
declares the same weight bytes int8 with zero point 0 (``zsc.engine.model_dir.Int8Twin``);
the runtime flips their sign bit at load (q + 128 -> q). The twin shares the weights file: it
adds a graph's structure (tens of kB), not a second copy of the weights.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from zsc.engine.manifest import Manifest
from zsc.engine.model_files import MANIFEST_NAME, write_manifest

from .directory import finalise_manifest
from .errors import ParityError
from .per_row import UINT8_WEIGHT_OFFSET
from .presets import QuantPreset
from .quantize import share_weights
from .recipes import WEIGHTS_FILE

logger = logging.getLogger("zsc.export")

TWIN_FILE = "model_int8_dot.onnx"
# Where the twin's flipped tensors say they live: never written, so that loading the twin
# without zsc (which supplies them) fails instead of reading uint8 bytes as int8.
FLIPPED_LOCATION = "weights.sign-flipped.bin"
INTEGER_MATMUL = "MatMulIntegerToFloat"
_WEIGHT_INPUTS, _ACTIVATION_INPUTS = (1, 5), (0, 4)  # (B, its zero point), (A, its zero point)


def twin_for(directory: Path, graph_file: str, preset: QuantPreset | None, weights_in_file: bool) -> dict[str, Any]:
    """The export step both exports share: the twin of the per-row int8 graph ``graph_file`` and
    its manifest entry, where ``preset`` stores uint8 weights ({} otherwise). The twin reads the
    weights from their file: unless an fp16-w8 graph already moved them there
    (``weights_in_file``), they are moved out of the graph first."""
    if preset is None or preset.per_row_weights != "uint8":
        return {}
    if not weights_in_file:

        share_weights(directory / graph_file, [], WEIGHTS_FILE)
    return write_twin(directory, graph_file)


def write_twin(directory: Path, graph_file: str) -> dict[str, Any]:
    """Write the twin of ``directory / graph_file`` and return its manifest entry (``int8_view``),
    or {} where there is nothing to flip: int8 weights already (the avx512_vnni or arm64 preset),
    or weights kept inside the graph rather than in a weights file."""
    import onnx
    from onnx import TensorProto, numpy_helper

    model = onnx.load(str(directory / graph_file), load_external_data=False)
    initializers = {t.name: t for t in model.graph.initializer}
    multiplies = [node for node in model.graph.node if node.op_type == INTEGER_MATMUL]
    unsigned = {node.input[i] for node in multiplies for i in _WEIGHT_INPUTS
                if i < len(node.input) and node.input[i] in initializers and initializers[node.input[i]].data_type == TensorProto.UINT8}
    activations = {node.input[i] for node in multiplies for i in _ACTIVATION_INPUTS if i < len(node.input)}
    if not unsigned or unsigned & activations:
        return {}
    tensors: dict[str, list[Any]] = {}
    locations = set()
    for tensor in model.graph.initializer:
        if tensor.name not in unsigned:
            continue
        external = {entry.key: entry for entry in tensor.external_data}
        if not external:  # a small zero point kept inline: store it as int8 directly
            values = numpy_helper.to_array(tensor).astype(np.int16) - UINT8_WEIGHT_OFFSET
            tensor.CopyFrom(numpy_helper.from_array(values.astype(np.int8), tensor.name))
            continue
        locations.add(external["location"].value)
        tensors[tensor.name] = [int(external["offset"].value) if "offset" in external else 0, [int(d) for d in tensor.dims]]
        tensor.data_type = TensorProto.INT8
        external["location"].value = FLIPPED_LOCATION
    if len(locations) != 1:
        logger.info("no int8 twin for %s: its 8-bit weights are not in one weights file", graph_file)
        return {}
    onnx.save(model, str(directory / TWIN_FILE))
    return {"of": graph_file, "file": TWIN_FILE, "weights": locations.pop(), "tensors": tensors}


def finalise_checking_twin(staging: Path, manifest: Manifest, parity: dict[str, dict[str, Any]],
                           check_twin: Callable[[], dict[str, Any]]) -> Manifest:
    """The last export step both exports share: ``finalise_manifest``, then, where the directory
    has a twin, its check as the runtime loads the finished directory (``check_twin``, a call of
    ``twin_difference``) added to the int8 parity record. The check changes no file, so the
    manifest is written again without hashing the files again."""
    final = finalise_manifest(staging, manifest, parity)
    if not final.int8_view:
        return final
    parity["int8"]["dot_product_twin"] = check_twin()
    final = replace(final, parity=parity)
    write_manifest(staging / MANIFEST_NAME, final.to_json())
    return final


def twin_difference(run_twin: Callable[[], tuple[np.ndarray, str]], portable: np.ndarray) -> dict[str, Any]:
    """The parity record of a finished directory's twin: the largest difference of its outputs
    (``run_twin``: the runtime's outputs from the directory, and why it chose that graph) from the
    portable graph's (``portable``), measured where this CPU runs the twin. The integers are the
    same, so any difference means the twin is wrong, and the export fails."""
    from zsc.engine.cpu import has_int8_dot_products

    if not has_int8_dot_products():
        return {"twin": TWIN_FILE, "checked": False, "why": "this CPU has no 8-bit dot products, so it never runs the twin"}
    outputs, reason = run_twin()
    if TWIN_FILE not in reason:
        raise ParityError(f"the runtime did not choose {TWIN_FILE} on a CPU with 8-bit dot products ({reason})")
    worst = float(np.abs(outputs - portable).max())
    if worst > 1e-4:
        raise ParityError(f"{TWIN_FILE} differs from the portable int8 graph by {worst:.3g}; it must compute the same integers")
    return {"twin": TWIN_FILE, "checked": True, "inputs": len(portable), "max_abs_diff_vs_int8": worst}
