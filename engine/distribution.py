"""How users install zsc, defined once: the distribution's name on the package index (the import
namespace and the command stay ``zsc``) and the extras that every install hint names."""

from __future__ import annotations

# "zsc" on the index is an unrelated project; this distribution installs the zsc.engine and
# zsc.export packages and the `zsc` command.
DISTRIBUTION = "zsc-onnx"


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` (e.g. "serve"): pip install 'zsc-onnx[serve]'."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


# The oldest onnxruntime that runs zsc's graphs: the per-row int8 graphs use ONNX's Attention op
# (opset 23), which onnxruntime runs on CPU from 1.23 (pyproject's [cpu] and [gpu] extras say the same).
MIN_ONNXRUNTIME = (1, 23)
MIN_ONNXRUNTIME_TEXT = ".".join(map(str, MIN_ONNXRUNTIME))

# The runtime depends on neither onnxruntime build: two of them in one environment shadow each
# other (the CUDA provider goes missing), so the user picks one.
RUNTIME_MISSING = (f"zsc needs onnxruntime, and a build was not chosen at install: {install_hint('cpu')} on any machine, "
                   f"or {install_hint('gpu')} on a CUDA host (one of the two, not both)")
