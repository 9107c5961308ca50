"""Optional graph step: compute the top of the last layer for the first token only.

Sequence classifiers that pool the first token (BERT's pooler, the RoBERTa and DeBERTa heads)
read one row of the final hidden states, yet the exported graph runs the last layer's
attention-output projection, feed-forward block and layer norms for every token. Those ops
act on each token independently, so slicing their inputs to token 0 gives the same logits
with about 75% less work in that layer (about 12% of a 6-layer model).

The pass finds the ``Gather(axis=1, index 0)`` that pools the first token, walks back through
token-wise ops whose results feed nothing else, and slices that region's sequence-shaped
inputs to ``[:, :1]``. Models pooled another way (BART reads the last EOS token) are left as
they are. The caller checks the pruned graph against torch like any exported graph.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .onnx_nodes import attribute, reduction_axes

logger = logging.getLogger("zsc.export")

# Ops whose output row i depends only on input row i (along the sequence axis). Binary ops
# qualify because the region's other operands are either weights or sliced as well.
TOKENWISE_OPS = {
    "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Cast",
    "LayerNormalization", "SkipLayerNormalization", "SimplifiedLayerNormalization",
    "SkipSimplifiedLayerNormalization", "BiasGelu", "Gelu", "FastGelu", "QuickGelu",
}
# Reductions are token-wise only over the hidden (last) axis.
_REDUCTIONS = {"ReduceMean"}


def prune_to_first_token(graph_path: Path, out_path: Path) -> bool:
    """Write the pruned graph to ``out_path`` and return True, or return False when the graph
    does not pool the first token (nothing is written then)."""
    import onnx

    model = onnx.load(str(graph_path))
    pruned = _prune(model)
    if pruned:
        onnx.save(model, str(out_path))
    return pruned


def _prune(model) -> bool:
    graph = model.graph
    nodes = list(graph.node)  # indexed: protobuf wrappers are not stable identities
    constants = _constant_values(graph)
    readers: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        for name in node.input:
            readers.setdefault(name, []).append(index)
    pool = _first_token_gather(nodes, constants)
    if pool is None:
        return False

    graph_outputs = {o.name for o in graph.output}
    region: set[int] = set()
    # Reverse topological order: a node joins when everything that reads it has joined.
    for index in range(len(nodes) - 1, -1, -1):
        node = nodes[index]
        if not _is_tokenwise(node, constants) or graph_outputs & set(node.output):
            continue
        reading = [r for out in node.output for r in readers.get(out, [])]
        if reading and all(r == pool or r in region for r in reading):
            region.add(index)
    if not region:
        return False

    produced_in_region = {out for index in region for out in nodes[index].output}
    boundary = sorted({
        name for index in region for name in nodes[index].input
        if name and name not in constants and name not in produced_in_region
    })
    # A region reaching back to the graph inputs would be the whole model, not its top.
    if not boundary or set(boundary) & {i.name for i in graph.input}:
        return False

    _insert_first_token_slices(graph, nodes, region, boundary)
    logger.info("first-token pruning: %d ops now run on token 0 only", len(region))
    return True


def _constant_values(graph) -> dict[str, object]:
    from onnx import numpy_helper

    values: dict[str, object] = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
        elif node.op_type == "Identity" and node.input[0] in values:
            # The exporter shares equal weights (tied or, in random models, identical) this way.
            values[node.output[0]] = values[node.input[0]]
    return values


def _first_token_gather(nodes, constants) -> int | None:
    """The index of the node that pools the hidden states' first token, if there is exactly one."""
    found = []
    for position, node in enumerate(nodes):
        if node.op_type != "Gather":
            continue
        axis = attribute(node, "axis", 0)
        gathered = constants.get(node.input[1])
        first = gathered is not None and gathered.size == 1 and int(gathered.reshape(-1)[0]) == 0
        if axis == 1 and first and node.input[0] not in constants:
            found.append(position)
    return found[0] if len(found) == 1 else None


def _is_tokenwise(node, constants) -> bool:
    if node.op_type == "MatMul":
        # x @ W is token-wise; the attention products (Q @ K^T, probs @ V) mix tokens.
        return node.input[1] in constants
    if node.op_type in TOKENWISE_OPS:
        return True
    if node.op_type in _REDUCTIONS:
        return reduction_axes(node, constants.get) in ([-1], [2])
    return False


def _insert_first_token_slices(graph, nodes, region: set[int], boundary: list[str]) -> None:
    import numpy as np
    from onnx import helper, numpy_helper

    def const(name: str, values: list[int]) -> str:
        graph.initializer.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    bounds = [const("zsc_first_token_start", [0]), const("zsc_first_token_end", [1]), const("zsc_first_token_axis", [1])]
    renamed = {name: f"{name}_first_token" for name in boundary}
    pending = {name: helper.make_node("Slice", [name, *bounds], [renamed[name]], name=f"zsc_first_token_slice_{i}")
               for i, name in enumerate(boundary)}
    ordered = []
    for index, node in enumerate(nodes):
        if index in region:
            for position, name in enumerate(node.input):
                if name in renamed:
                    # Topological order: each slice goes right before its first reader.
                    if name in pending:
                        ordered.append(pending.pop(name))
                    node.input[position] = renamed[name]
        ordered.append(node)
    del graph.node[:]
    graph.node.extend(ordered)
