"""Which graph of a model directory runs, and on which execution provider.

A model directory can hold several graphs of one model: per-row int8 for the CPU beside fp16
for CUDA (``zsc export --quantize int8,fp16``). ``choose_graph`` picks one from the provider
and precision asked for and the providers this onnxruntime offers, and says why; it never
opens a session, so every rule here is testable with a made-up provider list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .distribution import install_hint
from .manifest import PRECISIONS, GraphVariant

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
PROVIDER_CHOICES = ("auto", *PROVIDERS)
# What a caller may ask for: any precision a manifest names ("unknown" is what zsc derives, not a choice).
PRECISION_CHOICES = ("auto", *(p for p in PRECISIONS if p != "unknown"))

# What "auto" picks on each provider, best first; a precision missing from a provider's list is
# never picked there by "auto". On CUDA, dynamic int8 ran 22x slower than fp16 and slower than on
# the CPU (H200, onnxruntime-gpu 1.31); on the CPU, fp16 runs through casts, slower than fp32.
AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "cuda": ("fp16", "fp32", "unknown"),
    "cpu": ("int8", "int8-dynamic", "fp32", "unknown"),
}
# Pairs that cannot run at all. Measured on an H100 (onnxruntime-gpu 1.31): the session loads,
# then the first call fails in QuantizeLinear ("Unsupported quantization type").
UNSUPPORTED = {
    ("cuda", "int8"): "a per-row int8 graph runs on the CPU only (onnxruntime's CUDA QuantizeLinear lacks the "
                      "blocked quantisation it uses)",
}
EXPORT_HINT = "export the model with --quantize int8,fp16 to get a graph for each"


@dataclass(frozen=True)
class GraphChoice:
    graph: GraphVariant
    compute: str  # "cpu" or "cuda"
    reason: str
    slow: bool = False  # a combination "auto" would not pick: logged as a warning
    through_twin: bool = False  # run the int8 graph's twin (graph.twin)

    @property
    def file(self) -> str:
        """The graph file onnxruntime loads."""
        return self.graph.twin.file if self.through_twin and self.graph.twin is not None else self.graph.file

    @property
    def providers(self) -> list[str]:
        """onnxruntime's provider list: CUDA keeps the CPU behind it for the nodes it lacks."""
        return [PROVIDERS["cuda"], PROVIDERS["cpu"]] if self.compute == "cuda" else [PROVIDERS["cpu"]]


def check_choices(provider: object, precision: object) -> None:
    if provider not in PROVIDER_CHOICES:
        raise ValueError(f"provider must be one of {PROVIDER_CHOICES}, got {provider!r}")
    if precision not in PRECISION_CHOICES:
        raise ValueError(f"precision must be one of {PRECISION_CHOICES}, got {precision!r}")


def choose_graph(graphs: Sequence[GraphVariant], provider: str, precision: str, available: Sequence[str],
                 dot_products: bool = False) -> GraphChoice:
    """The graph and provider to run, from what was asked and what onnxruntime offers (``available``);
    an int8 graph on a CPU with 8-bit dot products (``dot_products``) runs through its twin where
    the directory has one: the same scores from the faster kernel."""
    choice = _choose(graphs, provider, precision, available)
    if choice.compute == "cpu" and choice.graph.twin is not None and dot_products:
        return replace(choice, through_twin=True, reason=f"{choice.reason}; through {choice.graph.twin.file}, its int8-weight twin "
                       "for this CPU's 8-bit dot products (the same integers, so the same scores)")
    return choice


def _choose(graphs: Sequence[GraphVariant], provider: str, precision: str, available: Sequence[str]) -> GraphChoice:
    check_choices(provider, precision)
    cuda_available = PROVIDERS["cuda"] in available
    if provider == "cuda" and not cuda_available:
        raise ValueError(
            f"provider 'cuda' was asked for but onnxruntime offers only {list(available)}: the GPU build must be the only "
            f"one installed (pip uninstall -y onnxruntime onnxruntime-gpu; {install_hint('gpu')}) with the CUDA and cuDNN it "
            "was built for (onnxruntime-gpu 1.31 on PyPI: CUDA 13, cuDNN 9), "
            "or use provider='cpu' or 'auto'"
        )
    by_precision = {g.precision: g for g in graphs}
    if precision != "auto" and precision not in by_precision:
        raise ValueError(f"this model directory has no {precision} graph; it has {', '.join(g.describe() for g in graphs)} "
                         f"(precision='auto' picks among them; {EXPORT_HINT})")
    if provider == "auto":
        return _choose_auto(graphs, by_precision, precision, cuda_available)
    wanted = [by_precision[precision]] if precision != "auto" else [
        by_precision[p] for p in AUTO_ORDER[provider] if p in by_precision]
    if wanted:
        graph = wanted[0]
        if (provider, graph.precision) in UNSUPPORTED:
            raise ValueError(f"{UNSUPPORTED[provider, graph.precision]}; use provider='cpu' or 'auto', or {EXPORT_HINT}")
        if graph.precision not in AUTO_ORDER[provider]:
            return GraphChoice(graph, provider, f"{graph.describe()} on {provider}, as asked, where it runs slowly", slow=True)
        return GraphChoice(graph, provider, f"{graph.describe()} on {provider}, as asked")
    # No graph suits this provider: run one that can, and say it is slow.
    runnable = [g for g in graphs if (provider, g.precision) not in UNSUPPORTED]
    if not runnable:
        raise ValueError(f"{UNSUPPORTED[provider, graphs[0].precision]}, and this directory has no other graph; "
                         f"use provider='cpu' or 'auto', or {EXPORT_HINT}")
    return GraphChoice(runnable[0], provider, f"no graph here suits {provider}: running {runnable[0].describe()}, which is "
                       f"slow there ({EXPORT_HINT})", slow=True)


def _choose_auto(graphs: Sequence[GraphVariant], by_precision: dict[str, GraphVariant], precision: str,
                 cuda_available: bool) -> GraphChoice:
    targets = ("cuda", "cpu") if cuda_available else ("cpu",)
    if precision != "auto":
        graph = by_precision[precision]
        for compute in targets:
            if precision in AUTO_ORDER[compute]:
                return GraphChoice(graph, compute, f"{graph.describe()} as asked, on {compute}{_why_not_cuda(cuda_available, compute)}")
        return GraphChoice(graph, "cpu", f"{graph.describe()} as asked, on the CPU (no CUDA), where it runs slowly", slow=True)
    for compute in targets:
        for wanted in AUTO_ORDER[compute]:
            if wanted in by_precision:
                graph = by_precision[wanted]
                if compute == "cuda":
                    return GraphChoice(graph, compute, f"CUDA is available and this directory has a {graph.describe()} graph")
                return GraphChoice(graph, compute, f"{graph.describe()} on the CPU{_why_not_cuda(cuda_available, compute)}")
    return GraphChoice(graphs[0], "cpu", f"only {graphs[0].describe()} here, on the CPU (no CUDA), where it runs slowly", slow=True)


def _why_not_cuda(cuda_available: bool, compute: str) -> str:
    if compute == "cuda":
        return ""
    if not cuda_available:
        return ": onnxruntime offers no CUDA execution provider"
    return f": CUDA is available, but this directory has no graph that runs well on it ({EXPORT_HINT})"
