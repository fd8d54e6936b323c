"""Reading solution files: every feature of the format, and every shape problem named by place."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualwrite.maps
from dualwrite.errors import DualWriteError
from dualwrite.maps import FieldMap, Filter, Lookup, ValueMap, load_solution, load_solution_text

HEAD = """
[solution]
name = "Test"
version = "1.2.0-beta.1"
publisher = "tests"
"""
GROUPS = """
[[maps]]
name = "Groups"
fo = "customergroups"
dataverse = "msdyn_customergroup"
company = { fo = "dataareaid", dataverse = "msdyn_company", map = "Companies" }
key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]
"""
FULL = """
[solution]
name = "Customers"
version = "2.0.1"
publisher = "Contoso"
description = "Customers and their groups."
requires = ["Dual-write core"]

[[maps]]
name = "Customers V3 (accounts)"
fo = "customersv3"
dataverse = "account"
master = "dataverse"
company = { fo = "dataareaid", dataverse = "msdyn_company", map = "Legal entities (cdm_companies)" }
key = [{ fo = "customeraccount", dataverse = "accountnumber" }]
fields = [
  { fo = "organizationname", dataverse = "name" },
  { fo = "creditlimit", dataverse = "creditlimit", direction = "->", default = 0 },
  { fo = "addresscity", dataverse = "address1_city", direction = "dv_to_fo" },
  { fo = "onholdstatus", dataverse = "creditonhold", direction = "<->", values = { pairs = [["No", false], ["Yes", true]], default_dataverse = true, default_fo = "No" } },
]
lookups = [
  { fo = "customergroupid", dataverse = "msdyn_customergroupid", map = "Customer groups (msdyn_customergroups)" },
  { fo = "paymentterms", dataverse = "msdyn_paymentterm", map = "Payment terms (msdyn_paymentterms)", direction = "->" },
]
filters.fo = [{ column = "partytype", op = "=", value = "Organization" }]
filters.dataverse = [{ column = "statecode", op = "in", value = [0] }, { column = "name", op = "not_null" }]
"""


def _problems(text: str, source: str = "custom.toml") -> list[str]:
    with pytest.raises(DualWriteError) as err:
        load_solution_text(text, source)
    assert err.value.code == "DW5003"
    return [line.strip() for line in err.value.message.splitlines()[1:]]


def test_every_feature_is_read() -> None:
    solution = load_solution_text(FULL, "customers.toml")
    assert (solution.name, solution.version, solution.publisher, solution.source) == (
        "Customers",
        "2.0.1",
        "Contoso",
        "customers.toml",
    )
    assert solution.description == "Customers and their groups."
    assert solution.requires == ("Dual-write core",)
    (tmap,) = solution.maps
    assert (tmap.name, tmap.fo, tmap.dv, tmap.master) == (
        "Customers V3 (accounts)",
        "customersv3",
        "account",
        "dataverse",
    )
    assert tmap.key == (("customeraccount", "accountnumber"),)
    assert tmap.fo_key == ("dataareaid", "customeraccount")
    assert tmap.dv_key == ("msdyn_company", "accountnumber")
    assert tmap.company == Lookup("dataareaid", "msdyn_company", "Legal entities (cdm_companies)")
    assert tmap.fields == (
        FieldMap("organizationname", "name", "both"),
        FieldMap("creditlimit", "creditlimit", "fo_to_dv", default=0),
        FieldMap("addresscity", "address1_city", "dv_to_fo"),
        FieldMap(
            "onholdstatus",
            "creditonhold",
            "both",
            ValueMap((("No", False), ("Yes", True)), default_dv=True, default_fo="No"),
        ),
    )
    assert tmap.lookups[1] == Lookup(
        "paymentterms", "msdyn_paymentterm", "Payment terms (msdyn_paymentterms)", "fo_to_dv"
    )
    assert tmap.depends_on == (
        "Legal entities (cdm_companies)",
        "Customer groups (msdyn_customergroups)",
        "Payment terms (msdyn_paymentterms)",
    )
    assert tmap.fo_filters == (Filter("partytype", "=", "Organization"),)
    assert tmap.dv_filters == (Filter("statecode", "in", [0]), Filter("name", "not_null"))
    assert tmap.flows_to_fo


def test_defaults_of_the_format() -> None:
    (tmap,) = load_solution_text(
        HEAD + GROUPS + 'fields = [{ fo = "a", dataverse = "b" }]', "x"
    ).maps
    assert tmap.master == "fo"
    assert tmap.fields[0].direction == "both"  # a field without direction syncs both ways
    assert tmap.fo_filters == tmap.dv_filters == ()


def test_a_file_is_named_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "customers.toml"
    path.write_text(FULL, encoding="utf-8")
    assert load_solution(path).source == "customers.toml"
    path.write_text(FULL.replace('name = "name"', 'name = "nme"').replace("[[maps]]", "[[mapz]]"))
    with pytest.raises(DualWriteError) as err:
        load_solution(str(path))
    assert "customers.toml: unknown setting 'mapz'" in err.value.message


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(DualWriteError) as err:
        load_solution(tmp_path / "nothing.toml")
    assert err.value.code == "DW1000"
    assert "nothing.toml" in err.value.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "this is not toml",
            "custom.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 1, column 6)",
        ),
        ("", "custom.toml: missing the [solution] table (name, version, publisher)"),
        (HEAD, "custom.toml: a solution needs at least one [[maps]] table"),
        (
            HEAD.replace('version = "1.2.0-beta.1"', 'version = "1.0"') + GROUPS,
            "custom.toml: version '1.0' is not a semantic version like 1.0.0",
        ),
        (
            HEAD.replace('publisher = "tests"', "") + GROUPS,
            "custom.toml > [solution]: 'publisher' must be a non-empty text",
        ),
        (
            HEAD + 'requires = "core"\n' + GROUPS,
            "custom.toml > [solution]: 'requires' must be a list of solution names",
        ),
        (
            HEAD + 'owner = "me"\n' + GROUPS,
            "custom.toml > [solution]: unknown setting 'owner' (allowed: description, name, publisher, requires, version)",
        ),
        (HEAD + "[[maps]]\nfo = 'x'", "custom.toml > map #1: every map needs a 'name'"),
        (
            HEAD + GROUPS.replace('fo = "customergroups"\n', ""),
            "custom.toml > Groups: 'fo' must be a non-empty text",
        ),
        (HEAD + GROUPS + GROUPS, "custom.toml > Groups: duplicate map name"),
        (
            HEAD + GROUPS + 'master = "both"',
            "custom.toml > Groups: master 'both' must be 'fo' or 'dataverse'",
        ),
        (
            HEAD + GROUPS + "feilds = []",
            "custom.toml > Groups: unknown setting 'feilds' (allowed: company, dataverse, fields, filters, fo, key, lookups, master, name)",
        ),
        (
            HEAD
            + GROUPS.replace('key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]', ""),
            "custom.toml > Groups: missing key: 'key' must list {fo, dataverse} column pairs",
        ),
        (
            HEAD + GROUPS.replace('dataverse = "msdyn_groupid"', 'dv = "msdyn_groupid"'),
            "custom.toml > Groups > key: 'dataverse' must be a non-empty text",
        ),
        (
            HEAD + GROUPS + 'fields = { fo = "a" }',
            "custom.toml > Groups: 'field' entries must be a list [...], not a table",
        ),
        (
            HEAD + GROUPS + 'fields = ["a"]',
            "custom.toml > Groups: field must be a table {...}, not a text",
        ),
        (
            HEAD + GROUPS + 'fields = [{ fo = "a", dataverse = "b", direction = "sideways" }]',
            "custom.toml > Groups > field 'a': direction 'sideways' is not one of ->, <-, <->",
        ),
        (
            HEAD + GROUPS + 'fields = [{ fo = "a", dataverse = "b", direciton = "->" }]',
            "custom.toml > Groups > field 'a': unknown setting 'direciton' (allowed: dataverse, default, direction, fo, values)",
        ),
        (
            HEAD + GROUPS + 'fields = [{ fo = "a" }]',
            "custom.toml > Groups > field 'a': 'dataverse' must be a non-empty text",
        ),
        (
            HEAD
            + GROUPS
            + 'fields = [{ fo = "a", dataverse = "b", values = { pairs = [["Yes"]] } }]',
            "custom.toml > Groups > field 'a': values.pairs must be a non-empty list of [fo value, dataverse value]",
        ),
        (
            HEAD
            + GROUPS
            + 'fields = [{ fo = "a", dataverse = "b", values = { pairs = [["Yes", 1]], default = 0 } }]',
            "custom.toml > Groups > field 'a': unknown setting 'default' (allowed: default_dataverse, default_fo, pairs)",
        ),
        (
            HEAD + GROUPS + 'lookups = [{ fo = "a", dataverse = "b" }]',
            "custom.toml > Groups > lookup 'b': 'map' must be a non-empty text",
        ),
        (
            HEAD + GROUPS.replace('map = "Companies" }', 'map = "Companies", direction = "->" }'),
            "custom.toml > Groups > company: unknown setting 'direction' (allowed: dataverse, fo, map)",
        ),
        (
            HEAD + GROUPS + 'filters.fo = [{ column = "a", op = "like", value = "x%" }]',
            "custom.toml > Groups > fo filter 'a': operator 'like' is not one of =, !=, <, <=, >, >=, in, is_null, not_null",
        ),
        (
            HEAD + GROUPS + 'filters.fo = [{ column = "a", op = "in", value = "x" }]',
            "custom.toml > Groups > fo filter 'a': operator 'in' needs a list value [...]",
        ),
        (
            HEAD + GROUPS + 'filters.fo = [{ column = "a", op = "=" }]',
            "custom.toml > Groups > fo filter 'a': operator '=' needs a 'value'",
        ),
        (
            HEAD + GROUPS + 'filters.dataverse = [{ column = "a", op = "is_null", value = 0 }]',
            "custom.toml > Groups > dataverse filter 'a': operator 'is_null' takes no 'value'",
        ),
        (
            HEAD + GROUPS + 'filters.fo = [{ column = "a", sql = "1=1" }]',
            "custom.toml > Groups > fo filter 'a': unknown setting 'sql' (allowed: column, op, value)",
        ),
        (
            HEAD + GROUPS + "filters.crm = []",
            "custom.toml > Groups > filters: unknown setting 'crm' (allowed: dataverse, fo)",
        ),
    ],
)
def test_shape_problems_are_named(text: str, line: str) -> None:
    assert line in _problems(text)


def test_all_shape_problems_are_reported_together() -> None:
    text = (
        HEAD.replace('version = "1.2.0-beta.1"', 'version = "one"')
        + GROUPS
        + GROUPS
        + 'fields = [{ fo = "a", dataverse = "b", direction = "=>" }]'
    )
    problems = _problems(text)
    assert problems == [
        "custom.toml: version 'one' is not a semantic version like 1.0.0",
        "custom.toml > Groups > field 'a': direction '=>' is not one of ->, <-, <->",
        "custom.toml > Groups: duplicate map name",
    ]


# --- robustness: any TOML at all gives either a solution or DW5003, never a crash -----------------

WORDS = [
    "solution",
    "maps",
    "name",
    "version",
    "publisher",
    "fo",
    "dataverse",
    "key",
    "fields",
    "lookups",
    "company",
    "filters",
    "values",
    "pairs",
    "direction",
    "op",
    "column",
    "value",
    "map",
    "requires",
    "master",
]
scalars = st.one_of(
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([*WORDS, "->", "<->", "1.0.0", "in"]),
    st.text(max_size=5),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(WORDS), inner, max_size=4)
    ),
    max_leaves=25,
)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@settings(max_examples=300)
@given(document=st.dictionaries(st.sampled_from(WORDS), values, max_size=4))
def test_any_document_loads_or_names_its_problems(document: dict[str, Any]) -> None:
    text = "\n".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in document.items())
    try:
        load_solution_text(text, "fuzz.toml")
    except DualWriteError as err:
        assert err.code == "DW5003"


def test_the_format_example_in_the_package_docstring_loads() -> None:
    doc = dualwrite.maps.__doc__ or ""
    example = doc.split("::\n", 1)[1].split("\nFilter operators", 1)[0]
    solution = load_solution_text(textwrap.dedent(example), "example.toml")
    (tmap,) = solution.maps
    assert tmap.company == Lookup("dataareaid", "msdyn_company", "Legal entities (cdm_companies)")
    assert [f.fo for f in tmap.fields] == ["organizationname", "creditlimit", "onholdstatus"]
    assert tmap.depends_on[1] == "Customer groups (msdyn_customergroups)"
