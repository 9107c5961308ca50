"""Reading ONNX nodes the way the graph passes need: an attribute with its default, and the axes a
reduction runs over (an attribute before opset 18, an input from it on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def attribute(node: Any, name: str, default: Any) -> Any:
    """``node``'s attribute ``name`` as a Python value, or ``default`` where the node does not set it."""
    from onnx import helper

    found = [a for a in node.attribute if a.name == name]
    return helper.get_attribute_value(found[0]) if found else default


def reduction_axes(node: Any, constant: Callable[[str], np.ndarray | None]) -> list[int] | None:
    """The axes a Reduce* node runs over, from its attribute or its constant second input
    (``constant``: a tensor name -> its value, None when not a constant); None when neither says."""
    axes = attribute(node, "axes", None)
    if axes is None and len(node.input) > 1 and node.input[1]:
        value = constant(node.input[1])
        axes = None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]
    return None if axes is None else [int(a) for a in axes]
