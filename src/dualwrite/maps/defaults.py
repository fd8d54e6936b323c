"""The solutions shipped with dualwrite, modelled on Microsoft's published dual-write maps."""

from __future__ import annotations

from importlib.resources import files

from dualwrite.maps.loader import load_solution_text
from dualwrite.maps.model import Solution

FILES = ("dualwrite_core.toml", "dualwrite_application.toml")


def default_solutions() -> list[Solution]:
    folder = files("dualwrite.maps") / "solutions"
    return [load_solution_text((folder / name).read_text("utf-8"), name) for name in FILES]
