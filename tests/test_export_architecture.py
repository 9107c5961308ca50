"""zsc.export's rooms, checked from the source as test_architecture.py checks the engine's: the
command line over the pipelines (export, embedder, tune, hub) over the steps (convert, optimize,
prune, calibrate, quantize, validate, ...), no cycle, and the engine reached only through its
public facade plus the named plumbing modules, never through a private name or a server."""

from __future__ import annotations

import ast
from pathlib import Path

from import_graph import import_cycle

EXPORT = Path(__file__).resolve().parents[1] / "export"
ENTRY = {"cli", "__init__"}
PIPELINES = {"api", "embedder", "tune", "hub"}
# The engine modules export may use besides the facade (zsc.engine): the manifest, its files and HF settings,
# the install hint, CPU flags, the pair encoder (calibration), input checks and the record reader (tune).
ENGINE_PLUMBING = {"manifest", "model_files", "hf_config", "distribution", "cpu", "encoding", "inputs", "jobs.files", "pooling"}


def imports(path: Path) -> tuple[set[str], list[tuple[str, list[str]]]]:
    """The export modules ``path`` imports, and each zsc.engine module it imports with the names."""
    local, engine = set(), []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            local.update([node.module] if node.module else [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zsc.engine"):
            engine.append((node.module.removeprefix("zsc.engine").lstrip("."), [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            engine += [(alias.name.removeprefix("zsc.engine").lstrip("."), []) for alias in node.names if alias.name.startswith("zsc.engine")]
    return local, engine


GRAPH = {path.stem: imports(path) for path in EXPORT.glob("*.py")}


def test_steps_never_import_a_pipeline_or_the_command_line():
    upward = {(name, target) for name, (local, _) in GRAPH.items() if name not in ENTRY | PIPELINES
              for target in local if target in ENTRY | PIPELINES}
    assert not upward


def test_only_the_command_line_imports_it():
    assert not {name for name, (local, _) in GRAPH.items() if "cli" in local}


def test_the_export_graph_has_no_cycle():
    cycle = import_cycle({name: local for name, (local, _) in GRAPH.items()})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_engine_is_reached_through_its_facade_and_named_plumbing_only():
    reached = {(name, module) for name, (_, engine) in GRAPH.items() for module, _ in engine if module and module not in ENGINE_PLUMBING}
    assert not reached
    private = {(name, module, item) for name, (_, engine) in GRAPH.items() for module, names in engine for item in names
               if item.startswith("_") and item != "__version__"}
    assert not private
