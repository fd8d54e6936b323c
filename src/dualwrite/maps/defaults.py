"""The solutions shipped with dualwrite, modelled on Microsoft's published dual-write maps."""

from __future__ import annotations

from importlib.resources import files

from dualwrite.maps.loader import load_solution_text
from dualwrite.maps.model import Solution

FILES = ("dualwrite_core.toml", "dualwrite_application.toml")


def default_solutions() -> list[Solution]:
    return [load_solution_text(text, name) for name, text in default_solution_texts()]


def default_solution_texts() -> list[tuple[str, str]]:
    """(file name, TOML text) of the shipped solutions, as a link stores them."""
    folder = files("dualwrite.maps") / "solutions"
    return [(name, (folder / name).read_text("utf-8")) for name in FILES]
