"""Solution files: loading, every validation error named by file > map > field, defaults."""

from __future__ import annotations

import pytest

from dualwrite.errors import DualWriteError
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.loader import load_solution_text
from dualwrite.maps.model import Solution
from dualwrite.maps.validate import dependency_order, validate
from dualwrite.stores import dataverse, fo

HEAD = """
[solution]
name = "Test"
version = "1.0.0"
publisher = "tests"
"""
GROUPS = """
[[maps]]
name = "Groups"
fo = "customergroups"
dataverse = "msdyn_customergroup"
company = { fo = "dataareaid", dataverse = "msdyn_company", map = "Legal entities (cdm_companies)" }
key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]
"""


def _check(text: str) -> list[str]:
    core = default_solutions()[0]
    solution = load_solution_text(HEAD + text, "custom.toml")
    validate([core, solution], fo.metadata, dataverse.metadata)
    return []


def _problems(text: str) -> str:
    with pytest.raises(DualWriteError) as err:
        _check(text)
    assert err.value.code == "DW5003"
    return err.value.message


def test_default_solutions_have_the_nine_maps_and_validate() -> None:
    solutions = default_solutions()
    assert [s.name for s in solutions] == [
        "Dual-write core",
        "Dual-write application orchestration",
    ]
    names = {m.name for s in solutions for m in s.maps}
    assert names == {
        "Legal entities (cdm_companies)",
        "Currencies (transactioncurrencies)",
        "Customer groups (msdyn_customergroups)",
        "Customers V3 (accounts)",
        "Customers V3 (contacts)",
        "Vendor groups (msdyn_vendorgroups)",
        "Vendors V2 (msdyn_vendors)",
        "Payment terms (msdyn_paymentterms)",
        "Released products (products)",
    }
    order = [m.name for m in validate(solutions, fo.metadata, dataverse.metadata)]
    assert order.index("Legal entities (cdm_companies)") < order.index(
        "Payment terms (msdyn_paymentterms)"
    )
    assert order.index("Payment terms (msdyn_paymentterms)") < order.index(
        "Customer groups (msdyn_customergroups)"
    )
    assert order.index("Customer groups (msdyn_customergroups)") < order.index(
        "Customers V3 (accounts)"
    )


def test_a_valid_custom_map_loads_with_its_features() -> None:
    text = (
        GROUPS
        + """
fields = [
  { fo = "description", dataverse = "msdyn_description", direction = "->", default = "" },
  { fo = "istaxexempt", dataverse = "msdyn_istaxexempt", direction = "<->" },
]
filters.fo = [{ column = "customergroupid", op = "in", value = ["10", "20"] }]
"""
    )
    assert _check(text) == []
    tmap = load_solution_text(HEAD + text, "x.toml").maps[0]
    assert tmap.fo_key == ("dataareaid", "customergroupid")
    assert tmap.dv_key == ("msdyn_company", "msdyn_groupid")
    assert tmap.depends_on == ("Legal entities (cdm_companies)",)
    assert tmap.fields[0].direction == "fo_to_dv"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            'fields = [{ fo = "nope", dataverse = "msdyn_description" }]',
            "custom.toml > Groups > field 'nope': unknown column 'nope' in F&O table 'customergroups'",
        ),
        (
            'fields = [{ fo = "description", dataverse = "nope" }]',
            "field 'description': unknown column 'nope' in Dataverse table",
        ),
        (
            'fields = [{ fo = "description", dataverse = "msdyn_istaxexempt" }]',
            "incompatible types: string 'description' <-> boolean 'msdyn_istaxexempt'",
        ),
        (
            'fields = [{ fo = "description", dataverse = "createdon", direction = "->" }]',
            "impossible direction: Dataverse 'createdon' cannot be written",
        ),
        (
            'fields = [{ fo = "recid", dataverse = "statecode", direction = "<-" }]',
            "impossible direction: F&O 'recid' cannot be written",
        ),
        (
            'fields = [{ fo = "description", dataverse = "msdyn_description", direction = "sideways" }]',
            "direction 'sideways' is not one of",
        ),
        (
            'fields = [{ fo = "istaxexempt", dataverse = "msdyn_istaxexempt", values = { pairs = [[true, 1], [false, 1]] } }]',
            "the value map cannot be inverted",
        ),
        (
            'lookups = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm", map = "Ghost" }]',
            "lookup 'msdyn_paymentterm': unknown lookup map 'Ghost'",
        ),
        (
            'lookups = [{ fo = "paymenttermid", dataverse = "msdyn_description", map = "Groups" }]',
            "'msdyn_description' is not a Dataverse lookup (GUID) column",
        ),
        (
            'fields = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm" }]',
            "a Dataverse lookup maps only through a lookup",
        ),
    ],
)
def test_each_problem_names_file_map_and_field(snippet: str, expected: str) -> None:
    assert expected.replace("<->", "↔") in _problems(GROUPS + snippet).replace("<->", "↔")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GROUPS.replace('key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]', ""),
            "Groups: missing key",
        ),
        (
            GROUPS.replace('"customergroupid", dataverse', '"description", dataverse'),
            "missing key: dataareaid, description is not a unique key of 'customergroups'",
        ),
        (GROUPS.replace('fo = "customergroups"', 'fo = "nothing"'), "unknown F&O table 'nothing'"),
        (GROUPS + GROUPS, "Groups: duplicate map name"),
        ("[[maps]]\nfo = 'x'", "every map needs a 'name'"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_structural_problems(text: str, expected: str) -> None:
    assert expected in _problems(text)


def test_all_problems_are_reported_together() -> None:
    text = (
        GROUPS
        + """
fields = [
  { fo = "nope", dataverse = "msdyn_description" },
  { fo = "description", dataverse = "createdon", direction = "->" },
]
"""
    )
    message = _problems(text)
    assert "3 problem(s)" in message  # the createdon field is also the wrong type
    assert "'nope'" in message and "createdon" in message


def test_dependency_cycles_are_named() -> None:
    text = (
        HEAD
        + """
[[maps]]
name = "A"
fo = "customergroups"
dataverse = "msdyn_customergroup"
key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]
lookups = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm", map = "B" }]

[[maps]]
name = "B"
fo = "paymentterms"
dataverse = "msdyn_paymentterm"
key = [{ fo = "name", dataverse = "msdyn_name" }]
lookups = [{ fo = "dataareaid", dataverse = "msdyn_company", map = "A" }]
"""
    )
    solution = load_solution_text(text, "cycle.toml")
    with pytest.raises(DualWriteError) as err:
        dependency_order(solution.maps)
    assert "dependency cycle: A → B → A" in err.value.message


def test_missing_required_solution() -> None:
    application: Solution = default_solutions()[1]
    with pytest.raises(DualWriteError) as err:
        validate([application], fo.metadata, dataverse.metadata)
    assert "requires solution 'Dual-write core'" in err.value.message
