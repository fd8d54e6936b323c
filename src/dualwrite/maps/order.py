"""Ordering table maps so that every map runs after the maps it looks up; naming cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from dualwrite.maps.model import TableMap
from dualwrite.maps.problems import Problems


def _graph(maps: Sequence[TableMap]) -> dict[str, list[str]]:
    names = {m.name for m in maps}
    # Lookups to unknown maps are the validator's business, not a dependency.
    return {m.name: sorted(d for d in m.depends_on if d in names) for m in maps}


def _components(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each sorted, in a deterministic order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _shortest_cycle(graph: dict[str, list[str]], start: str, members: set[str]) -> list[str]:
    """start → … → start, the shortest way round inside one component (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for dep in graph[node]:
            if dep == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if dep in members and dep not in came_from:
                came_from[dep] = node
                queue.append(dep)
    return [start, start]  # not reached: every member of a component lies on a cycle


def find_cycles(maps: Sequence[TableMap]) -> list[list[str]]:
    """One named cycle per group of maps that look each other up, e.g. [A, B, A]."""
    graph = _graph(maps)
    return [
        _shortest_cycle(graph, group[0], set(group))
        for group in _components(graph)
        if len(group) > 1
    ]


def report_cycles(problems: Problems, maps: Sequence[TableMap]) -> None:
    by_name = {m.name: m for m in maps}
    for cycle in find_cycles(maps):
        first = by_name[cycle[0]]
        problems.add_in(first.source, f"dependency cycle: {' → '.join(cycle)}", first.name)


def dependency_order(maps: Sequence[TableMap]) -> list[TableMap]:
    """Maps after the maps they look up, ties by name; raises DW5003 naming each cycle."""
    problems = Problems()
    report_cycles(problems, maps)
    problems.raise_if_any()
    graph = _graph(maps)
    by_name = {m.name: m for m in maps}
    order: list[TableMap] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for dep in graph[name]:
            visit(dep)
        order.append(by_name[name])

    for name in sorted(by_name):
        visit(name)
    return order


def with_dependencies(maps: Sequence[TableMap], names: Iterable[str]) -> list[TableMap]:
    """The named maps and every map they look up, directly or not, in dependency order."""
    by_name = {m.name: m for m in maps}
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in by_name and name not in wanted:
            wanted.add(name)
            todo.extend(by_name[name].depends_on)
    return [m for m in dependency_order(maps) if m.name in wanted]
