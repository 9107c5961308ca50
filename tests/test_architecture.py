"""The engine's rooms, checked from the source: imports only go down (core, then the classifier,
then the front-ends), the engine never imports zsc.export, the public API is a facade, and no
batch loop or cache is written twice."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from import_graph import import_cycle

ENGINE = Path(__file__).resolve().parents[1] / "engine"
# Front-ends: thin layers over the engine's public API (files, HTTP, the command line, Ray).
FRONT_ENDS = ("cli", "ray_data", "jobs", "server")


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def engine_imports(path: Path) -> set[str]:
    """The engine modules ``path`` imports (relative or as zsc.engine.*), as dotted names under engine/."""
    name = [part for part in module_name(path).split(".") if part]
    package = name[:-1] if path.name != "__init__.py" else name
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.startswith("zsc.engine"):
                target = node.module.split(".")[2:]
            elif node.module and node.module.startswith("zsc.export"):
                found.add("<zsc.export>")
                continue
            else:
                continue
            names = [alias.name for alias in node.names]
            for name in names:  # "from . import cli" imports the module cli
                candidate = ".".join([*target, name]).strip(".")
                found.add(candidate if (ENGINE / Path(*candidate.split("."))).with_suffix(".py").exists() else ".".join(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("zsc.export"):
                    found.add("<zsc.export>")
    return {f for f in found if f}


GRAPH = {module_name(p): engine_imports(p) for p in ENGINE.rglob("*.py") if "models" not in p.parts}


def is_front_end(name: str) -> bool:
    return name.split(".")[0] in FRONT_ENDS


def test_the_engine_never_imports_export():
    assert not [m for m, imports in GRAPH.items() if "<zsc.export>" in imports]


def test_no_core_module_imports_a_front_end():
    """The core (inputs -> encoding -> batching -> session -> scoring -> classifier) knows nothing of files, HTTP or Ray."""
    upward = {(m, i) for m, imports in GRAPH.items() if not is_front_end(m) and m for i in imports if is_front_end(i)}
    assert not upward


def test_the_import_graph_has_no_cycle():
    cycle = import_cycle(GRAPH, skip={""})  # the package itself (__init__ is the lazy facade)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("pattern, allowed", [
    (r"OrderedDict\(", {"lru"}),  # one LRU helper: hypotheses, embedder texts, server responses
    (r"def ahead\(|Prefetcher\(\)", {"runner"}),  # one prefetching batch runner
    (r"\.plan\(", {"runner"}),  # batches are planned in one place (the server fills its own from the budget)
    (r"\binference\.run\(|run_with_iobinding", {"session"}),  # one place runs a graph
])
def test_no_batch_loop_or_cache_is_written_twice(pattern, allowed):
    users = {m for m in GRAPH if re.search(pattern, (ENGINE / Path(*m.split("."))).with_suffix(".py").read_text()
                                            if (ENGINE / Path(*m.split("."))).with_suffix(".py").exists() else "")}
    assert users == allowed


def test_the_public_api_is_a_facade():
    import zsc.engine as api

    assert len(api.__all__) <= 15
    for name in api.__all__:
        assert getattr(api, name) is not None
    plumbing = {"PairEncoder", "Manifest", "write_manifest", "sha256_file", "cpu_flags", "MODEL_FILE", "GraphVariant"}
    assert not plumbing & set(api.__all__)
