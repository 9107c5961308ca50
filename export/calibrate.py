"""Activation statistics for per-row int8: each quantised MatMul input's peak per channel.

SmoothQuant (Xiao et al., 2023) moves part of an activation channel's range into the weights:
x / m and W * m give the same product, and with m_k = max|x_k|^a / max|W_k|^(1-a) the outlier
channels of a transformer's hidden states stop setting the whole row's int8 grid. The peaks
come from the fp32 graph on real NLI pairs, counting real (unpadded) tokens only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zsc.engine.encoding import PairEncoder
from zsc.engine.manifest import Manifest

from .per_row import quantised_inputs

SMOOTHING_ALPHA = 0.5  # SmoothQuant's default; 0.3-0.7 measured within noise on AG News (bench-int8)
_FLOOR = 1e-5
_BATCH = 16


def activation_peaks(model: Any, encoder: PairEncoder, pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Per-channel max |activation| of every quantised input, over the pairs' real tokens.

    ``model`` (an onnx ModelProto) gets those inputs added as graph outputs, to be read back."""
    import onnx
    import onnxruntime as ort

    names = list(quantised_inputs(model))
    for name in names:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    encoded_pairs = encoder.zipped_pairs([p for p, _ in pairs], [h for _, h in pairs])
    peaks: dict[str, np.ndarray] = {}
    for start in range(0, len(pairs), _BATCH):
        batch = encoder.assemble(encoded_pairs.take(np.arange(start, min(start + _BATCH, len(pairs)))))
        feeds = {k: v for k, v in (("input_ids", batch.input_ids), ("attention_mask", batch.attention_mask),
                                   ("token_type_ids", batch.token_type_ids)) if k in wanted}
        real = batch.attention_mask.astype(bool)
        for name, value in zip(names, session.run(names, feeds)):
            # Pruned last-layer inputs hold token 0 only: every row there is real.
            rows = value[real] if value.shape[:2] == real.shape else value.reshape(-1, value.shape[-1])
            peak = np.abs(rows).max(axis=0)
            peaks[name] = np.maximum(peaks[name], peak) if name in peaks else peak
    return peaks


def smoothing_factors(graph: Path, tokenizer: Path, manifest: Manifest, pairs: list[tuple[str, str]],
                      alpha: float = SMOOTHING_ALPHA) -> dict[str, np.ndarray]:
    """SmoothQuant factors m per quantised activation (divide x by m, multiply W's rows by m)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    weights = {t.name: t for t in model.graph.initializer}
    weight_of = quantised_inputs(model)
    factors = {}
    encoder = PairEncoder.from_file(tokenizer, manifest.max_length, manifest.pad_token_id)
    for activation, peak in activation_peaks(model, encoder, pairs).items():
        weight = numpy_helper.to_array(weights[weight_of[activation]])
        weight_peak = np.abs(weight).max(axis=1)
        factors[activation] = (np.maximum(peak, _FLOOR) ** alpha / np.maximum(weight_peak, _FLOOR) ** (1 - alpha)).astype(np.float32)
    return factors
