"""Import graphs of the project's packages, read from the source, and the cycle check both
architecture tests run."""

from __future__ import annotations

from collections.abc import Mapping, Set


def import_cycle(graph: Mapping[str, Set[str]], skip: Set[str] = frozenset()) -> list[str] | None:
    """The first import cycle found in ``graph`` (module -> modules it imports) as a path that
    ends where it began, or None; modules in ``skip`` are not followed (a lazy package facade)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: tuple[str, ...]) -> list[str] | None:
        if state.get(name) == 1:
            return [*path, name]
        if state.get(name) == 2 or name not in graph:
            return None
        state[name] = 1
        for imported in graph[name]:
            if imported not in skip and (cycle := visit(imported, (*path, name))):
                return cycle
        state[name] = 2
        return None

    for name in graph:
        if cycle := visit(name, ()):
            return cycle
    return None
