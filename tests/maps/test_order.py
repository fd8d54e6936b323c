"""Dependency order of table maps and the naming of lookup cycles."""

from __future__ import annotations

import itertools

import pytest

from dualwrite.errors import DualWriteError
from dualwrite.maps import (
    TableMap,
    dependency_order,
    find_cycles,
    load_solution_text,
    with_dependencies,
)


def _maps(*edges: str, source: str = "cycle.toml") -> list[TableMap]:
    """Maps from 'A>B' (A looks up B) and 'A' (a map without lookups)."""
    names = sorted({n for e in edges for n in e.split(">")})
    lookups = {n: [e.split(">")[1] for e in edges if e.startswith(f"{n}>")] for n in names}
    text = '[solution]\nname = "S"\nversion = "1.0.0"\npublisher = "t"\n'
    for name in names:
        text += f'[[maps]]\nname = "{name}"\nfo = "f"\ndataverse = "d"\nkey = [{{ fo = "k", dataverse = "k" }}]\n'
        items = ", ".join(
            f'{{ fo = "{t}", dataverse = "{t}", map = "{t}" }}' for t in lookups[name]
        )
        text += f"lookups = [{items}]\n"
    return list(load_solution_text(text, source).maps)


def test_maps_come_after_the_maps_they_look_up() -> None:
    maps = _maps(
        "Accounts>Groups", "Accounts>Companies", "Groups>Terms", "Terms>Companies", "Currencies"
    )
    order = [m.name for m in dependency_order(maps)]
    assert order == ["Companies", "Terms", "Groups", "Accounts", "Currencies"]


def test_the_order_does_not_depend_on_the_input_order() -> None:
    maps = _maps("D>B", "C>B", "B>A", "E")
    orders = {
        tuple(m.name for m in dependency_order(list(p))) for p in itertools.permutations(maps)
    }
    assert orders == {("A", "B", "C", "D", "E")}


def test_a_map_may_look_itself_up() -> None:
    assert [m.name for m in dependency_order(_maps("A>A", "A>B"))] == ["B", "A"]


@pytest.mark.parametrize(
    ("edges", "cycles"),
    [
        (("A>B", "B>A"), [["A", "B", "A"]]),
        (("A>B", "B>C", "C>A", "C>D"), [["A", "B", "C", "A"]]),
        (("A>B", "B>C", "C>A", "A>C"), [["A", "C", "A"]]),  # the shortest way round
        (("A>B", "B>A", "X>Y", "Y>Z", "Z>X", "Q"), [["A", "B", "A"], ["X", "Y", "Z", "X"]]),
        (("A>B", "B>C"), []),
    ],
)
def test_cycles_are_named(edges: tuple[str, ...], cycles: list[list[str]]) -> None:
    assert find_cycles(_maps(*edges)) == cycles


def test_dependency_order_refuses_a_cycle_naming_it() -> None:
    with pytest.raises(DualWriteError) as err:
        dependency_order(_maps("A>B", "B>A", "X>Y", "Y>X"))
    assert err.value.code == "DW5003"
    assert "cycle.toml > A: dependency cycle: A → B → A" in err.value.message
    assert "cycle.toml > X: dependency cycle: X → Y → X" in err.value.message


def test_with_dependencies_adds_what_the_named_maps_look_up() -> None:
    maps = _maps("Accounts>Groups", "Groups>Companies", "Vendors>Companies", "Currencies")
    assert [m.name for m in with_dependencies(maps, ["Accounts"])] == [
        "Companies",
        "Groups",
        "Accounts",
    ]
    assert with_dependencies(maps, ["Nothing"]) == []
