"""Validation against the schemas: every kind of problem, named exactly by file > map > field."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData

from dualwrite.errors import DualWriteError
from dualwrite.maps import fit_warnings, load_solution_text, validate

CORE = """
[solution]
name = "Core"
version = "1.0.0"
publisher = "tests"

[[maps]]
name = "Companies"
fo = "legalentities"
dataverse = "cdm_company"
key = [{ fo = "legalentityid", dataverse = "cdm_companycode" }]
fields = [{ fo = "name", dataverse = "cdm_name", direction = "->" }]
"""
HEAD = """
[solution]
name = "Custom"
version = "1.0.0"
publisher = "tests"
requires = ["Core"]

[[maps]]
name = "Terms"
fo = "paymentterms"
dataverse = "msdyn_paymentterm"
company = { fo = "dataareaid", dataverse = "msdyn_company", map = "Companies" }
key = [{ fo = "name", dataverse = "msdyn_name" }]
"""
GROUPS = """
[[maps]]
name = "Groups"
fo = "customergroups"
dataverse = "msdyn_customergroup"
company = { fo = "dataareaid", dataverse = "msdyn_company", map = "Companies" }
key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]
"""
ACCOUNTS = """
[[maps]]
name = "Accounts"
fo = "customers"
dataverse = "account"
company = { fo = "dataareaid", dataverse = "msdyn_company", map = "Companies" }
key = [{ fo = "customeraccount", dataverse = "accountnumber" }]
fields = [{ fo = "organizationname", dataverse = "name", direction = "->" }]
"""


def _validate(fo_md: MetaData, dv_md: MetaData, text: str, core: str = CORE) -> list[str]:
    solutions = [load_solution_text(core, "core.toml"), load_solution_text(text, "custom.toml")]
    return [m.name for m in validate(solutions, fo_md, dv_md)]


def _problems(fo_md: MetaData, dv_md: MetaData, text: str, core: str = CORE) -> list[str]:
    with pytest.raises(DualWriteError) as err:
        _validate(fo_md, dv_md, text, core)
    assert err.value.code == "DW5003"
    return [line.strip() for line in err.value.message.splitlines()[1:]]


def test_a_valid_set_of_solutions_comes_back_in_dependency_order(
    fo_md: MetaData, dv_md: MetaData
) -> None:
    text = (
        HEAD
        + GROUPS
        + """
fields = [
  { fo = "description", dataverse = "msdyn_description", direction = "<->", default = "" },
  { fo = "istaxexempt", dataverse = "msdyn_taxexemptcode", values = { pairs = [[true, 1], [false, 0]] } },
  { fo = "discount", dataverse = "msdyn_discount" },
]
lookups = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm", map = "Terms" }]
filters.fo = [{ column = "days", op = ">=", value = 0 }, { column = "description", op = "not_null" }]
filters.dataverse = [{ column = "statecode", op = "in", value = [0, 1] }]
"""
        + ACCOUNTS
        + """
lookups = [{ fo = "customergroupid", dataverse = "msdyn_customergroupid", map = "Groups", direction = "->" }]
"""
    )
    assert _validate(fo_md, dv_md, text) == ["Companies", "Terms", "Groups", "Accounts"]


@pytest.mark.parametrize(
    ("snippet", "line"),
    [
        # unknown table or column
        (
            'fields = [{ fo = "nope", dataverse = "msdyn_description" }]',
            "custom.toml > Groups > field 'nope': unknown column 'nope' in F&O table 'customergroups'",
        ),
        (
            'fields = [{ fo = "description", dataverse = "nope" }]',
            "custom.toml > Groups > field 'description': unknown column 'nope' in Dataverse table 'msdyn_customergroup'",
        ),
        (
            'filters.dataverse = [{ column = "nope", op = "is_null" }]',
            "custom.toml > Groups > dataverse filter 'nope': unknown column 'nope' in Dataverse table 'msdyn_customergroup'",
        ),
        # incompatible types
        (
            'fields = [{ fo = "description", dataverse = "msdyn_days" }]',
            "custom.toml > Groups > field 'description': incompatible types: string 'description' ↔ number 'msdyn_days' need a value map",
        ),
        (
            'fields = [{ fo = "istaxexempt", dataverse = "msdyn_taxexemptcode" }]',
            "custom.toml > Groups > field 'istaxexempt': incompatible types: boolean 'istaxexempt' ↔ number 'msdyn_taxexemptcode' need a value map",
        ),
        (
            'fields = [{ fo = "istaxexempt", dataverse = "msdyn_taxexemptcode", values = { pairs = [["Yes", 1], [false, 0]] } }]',
            "custom.toml > Groups > field 'istaxexempt': incompatible types: value map F&O value 'Yes' is not a boolean",
        ),
        (
            'fields = [{ fo = "days", dataverse = "msdyn_days", default = "none" }]',
            "custom.toml > Groups > field 'days': incompatible types: default 'none' does not fit F&O number column",
        ),
        (
            'fields = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm" }]',
            "custom.toml > Groups > field 'paymenttermid': incompatible types: 'msdyn_paymentterm' is a lookup (GUID); map it under 'lookups' through the map of the table it refers to",
        ),
        (
            'filters.fo = [{ column = "days", op = "=", value = "ten" }]',
            "custom.toml > Groups > fo filter 'days': incompatible types: 'ten' does not fit number column",
        ),
        (
            'filters.dataverse = [{ column = "msdyn_istaxexempt", op = ">", value = false }]',
            "custom.toml > Groups > dataverse filter 'msdyn_istaxexempt': operator '>' does not apply to a boolean column",
        ),
        # impossible direction
        (
            'fields = [{ fo = "modifieddatetime", dataverse = "createdon", direction = "->" }]',
            "custom.toml > Groups > field 'modifieddatetime': impossible direction ->: Dataverse 'createdon' is set by the platform and cannot be written",
        ),
        (
            'fields = [{ fo = "recid", dataverse = "statecode", direction = "<-" }]',
            "custom.toml > Groups > field 'recid': impossible direction <-: F&O 'recid' is the primary key and cannot be written",
        ),
        (
            'fields = [{ fo = "description", dataverse = "msdyn_customergroupid", direction = "->" }]',
            "custom.toml > Groups > field 'description': impossible direction ->: Dataverse 'msdyn_customergroupid' is the primary key and cannot be written",
        ),
        (
            'fields = [{ fo = "istaxexempt", dataverse = "msdyn_taxexemptcode", values = { pairs = [[true, 1], [false, 1]] } }]',
            "custom.toml > Groups > field 'istaxexempt': impossible direction <->: the value map is not invertible (Dataverse value 1 appears in two pairs); use -> or <-",
        ),
        (
            'fields = [{ fo = "description", dataverse = "msdyn_description" }, { fo = "customergroupid", dataverse = "msdyn_description" }]',
            "custom.toml > Groups > field 'customergroupid': Dataverse column 'msdyn_description' is written twice: by field 'description' and by field 'customergroupid'",
        ),
        # lookups
        (
            'lookups = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm", map = "Ghost" }]',
            "custom.toml > Groups > lookup 'msdyn_paymentterm': unknown lookup map 'Ghost'",
        ),
        (
            'lookups = [{ fo = "paymenttermid", dataverse = "msdyn_description", map = "Terms" }]',
            "custom.toml > Groups > lookup 'msdyn_description': 'msdyn_description' is not a Dataverse lookup (GUID) column",
        ),
        (
            'lookups = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm", map = "Companies" }]',
            "custom.toml > Groups > lookup 'msdyn_paymentterm': Dataverse 'msdyn_paymentterm' refers to 'msdyn_paymentterm', but map 'Companies' syncs 'cdm_company'",
        ),
        (
            'lookups = [{ fo = "days", dataverse = "msdyn_paymentterm", map = "Terms" }]',
            "custom.toml > Groups > lookup 'msdyn_paymentterm': incompatible types: F&O 'days' is a number, the key 'name' of map 'Terms' a string",
        ),
    ],
)
def test_each_problem_names_file_map_and_field(
    fo_md: MetaData, dv_md: MetaData, snippet: str, line: str
) -> None:
    assert line in _problems(fo_md, dv_md, HEAD + GROUPS + snippet)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            HEAD + GROUPS.replace('fo = "customergroups"', 'fo = "nothing"'),
            "custom.toml > Groups: unknown F&O table 'nothing'",
        ),
        (
            HEAD + GROUPS.replace('dataverse = "msdyn_customergroup"', 'dataverse = "nothing"'),
            "custom.toml > Groups: unknown Dataverse table 'nothing'",
        ),
        (
            HEAD + GROUPS.replace('"customergroupid", dataverse', '"description", dataverse'),
            "custom.toml > Groups: missing key: dataareaid, description is not a unique key of 'customergroups'",
        ),
        (
            HEAD + GROUPS.replace('dataverse = "msdyn_groupid"', 'dataverse = "msdyn_description"'),
            "custom.toml > Groups: missing key: msdyn_company, msdyn_description is not an alternate key of 'msdyn_customergroup'",
        ),
        (
            HEAD + GROUPS.replace('dataverse = "msdyn_groupid"', 'dataverse = "msdyn_days"'),
            "custom.toml > Groups > key 'customergroupid': incompatible types: key string 'customergroupid' ↔ number 'msdyn_days'",
        ),
        (
            HEAD + GROUPS.replace('{ fo = "customergroupid"', '{ fo = "nope"'),
            "custom.toml > Groups > key 'nope': unknown column 'nope' in F&O table 'customergroups'",
        ),
        (
            HEAD + GROUPS.replace('map = "Companies"', 'map = "Terms"'),
            "custom.toml > Groups > company: company map 'Terms' must not itself be company-striped",
        ),
        (
            HEAD
            + ACCOUNTS.replace(
                'fields = [{ fo = "organizationname", dataverse = "name", direction = "->" }]', ""
            ),
            "custom.toml > Accounts > column 'name': missing required column: Dataverse 'name' is NOT NULL without a default and nothing in this map writes it",
        ),
        (
            HEAD + GROUPS + ACCOUNTS.replace('direction = "->"', 'direction = "<->"'),
            "custom.toml > Accounts > column 'customergroupid': missing required column: F&O 'customergroupid' is NOT NULL without a default and nothing in this map writes it",
        ),
        (
            HEAD.replace('requires = ["Core"]', 'requires = ["Core", "Extras"]'),
            "custom.toml: requires solution 'Extras', which is not loaded",
        ),
        (
            HEAD.replace('name = "Terms"', 'name = "Companies"').replace(
                'map = "Companies"', 'map = "Core"'
            ),
            "custom.toml > Companies: duplicate map name: also defined in core.toml",
        ),
    ],
)
def test_map_level_problems(fo_md: MetaData, dv_md: MetaData, text: str, line: str) -> None:
    assert line in _problems(fo_md, dv_md, text)


def test_lookup_through_a_company_striped_map_needs_striping(
    fo_md: MetaData, dv_md: MetaData
) -> None:
    core = (
        CORE
        + 'lookups = [{ fo = "defaultgroup", dataverse = "msdyn_defaultgroup", map = "Groups" }]'
    )
    problems = _problems(fo_md, dv_md, HEAD + GROUPS, core)
    assert (
        "core.toml > Companies > lookup 'msdyn_defaultgroup': map 'Groups' is company-striped, so this map needs 'company' to resolve it"
        in problems
    )
    assert "core.toml > Companies: dependency cycle: Companies → Groups → Companies" in problems


def test_lookup_through_a_map_with_a_composite_key(fo_md: MetaData, dv_md: MetaData) -> None:
    groups = GROUPS.replace(
        'key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }]',
        'key = [{ fo = "customergroupid", dataverse = "msdyn_groupid" }, { fo = "description", dataverse = "msdyn_description" }]',
    )
    text = (
        HEAD
        + groups
        + ACCOUNTS
        + 'lookups = [{ fo = "customergroupid", dataverse = "msdyn_customergroupid", map = "Groups" }]'
    )
    assert (
        "custom.toml > Accounts > lookup 'msdyn_customergroupid': map 'Groups' has a key of 2 columns; a lookup resolves only through a one-column key (plus company)"
        in _problems(fo_md, dv_md, text)
    )


def test_all_problems_of_all_files_are_reported_together(fo_md: MetaData, dv_md: MetaData) -> None:
    core = CORE.replace('dataverse = "cdm_name"', 'dataverse = "cdm_nme"')
    text = (
        HEAD
        + GROUPS
        + """
fields = [
  { fo = "nope", dataverse = "msdyn_description" },
  { fo = "description", dataverse = "msdyn_days" },
]
lookups = [{ fo = "paymenttermid", dataverse = "msdyn_paymentterm", map = "Ghost" }]
"""
    )
    with pytest.raises(DualWriteError) as err:
        _validate(fo_md, dv_md, text, core)
    message = err.value.message
    assert message.startswith("core.toml, custom.toml has 5 problem(s):")
    for part in (
        "core.toml > Companies > field 'name': unknown column 'cdm_nme'",
        "core.toml > Companies > column 'cdm_name': missing required column",
        "custom.toml > Groups > field 'nope': unknown column 'nope'",
        "custom.toml > Groups > field 'description': incompatible types",
        "custom.toml > Groups > lookup 'msdyn_paymentterm': unknown lookup map 'Ghost'",
    ):
        assert part in message
    assert "file > map > field" in err.value.hint


def test_validate_takes_one_solution_too(fo_md: MetaData, dv_md: MetaData) -> None:
    core = load_solution_text(CORE, "core.toml")
    assert [m.name for m in validate(core, fo_md, dv_md)] == ["Companies"]


def test_length_and_fraction_warnings(fo_md: MetaData, dv_md: MetaData) -> None:
    text = (
        HEAD
        + GROUPS
        + 'fields = [{ fo = "discount", dataverse = "msdyn_days", direction = "->" }]'
        + ACCOUNTS.replace(
            "fields = [",
            'fields = [{ fo = "email", dataverse = "emailaddress1", direction = "<->" }, ',
        )
        + 'lookups = [{ fo = "customergroupid", dataverse = "msdyn_customergroupid", map = "Groups" }]'
    )
    solutions = [load_solution_text(CORE, "core.toml"), load_solution_text(text, "custom.toml")]
    validate(solutions, fo_md, dv_md)  # warnings are not problems
    assert fit_warnings(solutions, fo_md, dv_md) == [
        "custom.toml > Groups > field 'discount': F&O 'discount' has fractions, Dataverse 'msdyn_days' holds whole numbers only",
        "custom.toml > Accounts > field 'email': F&O 'email' holds up to 255 characters, Dataverse 'emailaddress1' only 100; longer values go to the error log",
    ]
