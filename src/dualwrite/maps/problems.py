"""Collecting every problem of a set of solution files, each named by file > map > field."""

from __future__ import annotations

from dualwrite.errors import ERR


class Problems:
    """Every problem found, each as `file > map > field: what is wrong`, raised together."""

    def __init__(self, source: str = "") -> None:
        self.source = source
        self.items: list[str] = []
        self._sources: list[str] = []

    def add(self, problem: str, *where: str) -> None:
        self.add_in(self.source, problem, *where)

    def add_in(self, source: str, problem: str, *where: str) -> None:
        """A problem of another file than the default one (validation spans several)."""
        source = source or "solution"
        place = " > ".join([source, *[w for w in where if w]])
        item = f"{place}: {problem}"
        if item not in self.items:  # one cause reached twice is still one problem
            self.items.append(item)
            self._sources.append(source)

    def raise_if_any(self) -> None:
        if self.items:
            sources = ", ".join(dict.fromkeys(self._sources))
            raise ERR.MAP_INVALID.error(
                source=sources, count=len(self.items), problems="\n  ".join(self.items)
            )
