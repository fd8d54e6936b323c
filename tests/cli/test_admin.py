"""Tenants, users, projects, environments and Power Platform through the CLI."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clirun import Run, as_json
from factories import PASSWORD

ADMIN = "admin@contoso.onmicrosoft.com"


def test_users_roles_and_licenses(initialised: Run) -> None:
    created = initialised(
        "user",
        "create",
        "--upn",
        "pat@contoso.onmicrosoft.com",
        "--name",
        "Pat",
        "--password",
        PASSWORD,
        "--role",
        "power-platform-admin",
        "--license",
        "D365_FINANCE",
        "--json",
    )
    assert as_json(created)["roles"] == ["Power Platform administrator"]
    initialised("user", "license", ADMIN, "AX_ENTERPRISE")
    assert as_json(initialised("user", "show", ADMIN, "--json"))["licenses"] == ["AX_ENTERPRISE"]
    initialised("user", "license", ADMIN, "AX_ENTERPRISE", "--remove")
    users = as_json(initialised("user", "list", "--json"))
    assert [u["upn"] for u in users] == [ADMIN, "pat@contoso.onmicrosoft.com"]
    catalogue = as_json(initialised("license", "list", "--json"))
    assert sum(lic["qualifies_for_fo"] for lic in catalogue) == 7
    dup = initialised(
        "user",
        "create",
        "--upn",
        "PAT@contoso.onmicrosoft.com",
        "--name",
        "P",
        "--password",
        PASSWORD,
        ok=False,
    )
    assert "Error DW1001" in dup.stderr


def test_tenant_settings_and_capacity(initialised: Run) -> None:
    tenant = as_json(
        initialised(
            "tenant",
            "settings",
            "contoso.onmicrosoft.com",
            "--restricted",
            "--capacity-gb",
            "5",
            "--json",
        )
    )
    assert tenant["everyone_can_create_environments"] is False
    assert tenant["database_capacity_gb"] == 5.0
    initialised("platform", "env", "create", "Field Service", "--region", "West US")
    capacity = as_json(initialised("tenant", "capacity", "contoso.onmicrosoft.com", "--json"))
    assert capacity == {"total_gb": 5.0, "used_gb": 1.0, "free_gb": 4.0}
    assert len(as_json(initialised("tenant", "list", "--json"))) == 1


def test_project_environment_and_seed(initialised: Run) -> None:
    initialised("project", "create", "ERP rollout")
    initialised(
        "env",
        "create",
        "contoso-test",
        "--project",
        "ERP rollout",
        "--legal-entity",
        "USMF",
        "--legal-entity",
        "GBSI",
    )
    seeded = initialised("data", "seed", "contoso-test", "--customers", "500", "--vendors", "20")
    assert "Wrote 520 rows" in seeded.stdout
    detail = as_json(initialised("env", "show", "contoso-test", "--json"))
    assert detail["row_counts"]["customersv3"] == 500
    assert [e["id"] for e in detail["legal_entities"]] == ["GBSI", "USMF"]
    project = as_json(initialised("project", "show", "ERP rollout", "--json"))
    assert project["environments"] == ["contoso-test"]
    platforms = as_json(initialised("platform", "env", "list", "--json"))
    assert [(p["name"], p["initial"]) for p in platforms] == [("contoso-test (initial)", True)]


def test_bad_environment_input_leaves_nothing(
    initialised: Run, new_database: Callable[[str], str]
) -> None:
    initialised("project", "create", "ERP rollout")
    for extra, code in [
        (["--region", "Atlantis"], "DW1003"),
        (["--database-url", "oracle://db/x"], "DW2001"),
        (["--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/x"], "DW2002"),
        (["--type", "staging"], "DW1000"),
    ]:
        result = initialised(
            "env", "create", "contoso-test", "--project", "ERP rollout", *extra, ok=False
        )
        assert result.exit_code == 1
        assert f"Error {code}" in result.stderr, result.stderr
    assert as_json(initialised("env", "list", "--json")) == []


@pytest.mark.postgresql
def test_environment_on_postgresql(initialised: Run, new_database: Callable[[str], str]) -> None:
    url = new_database("postgresql")
    initialised("project", "create", "ERP rollout")
    initialised("env", "create", "contoso-pg", "--project", "ERP rollout", "--database-url", url)
    initialised("data", "seed", "contoso-pg", "--customers", "100")
    assert (
        as_json(initialised("env", "show", "contoso-pg", "--json"))["row_counts"]["customersv3"]
        == 100
    )


def test_dataverse_seed_and_platform_admins(initialised: Run) -> None:
    initialised(
        "user",
        "create",
        "--upn",
        "joe@contoso.onmicrosoft.com",
        "--name",
        "Joe",
        "--password",
        PASSWORD,
    )
    env = as_json(initialised("platform", "env", "create", "Field Service", "--json"))
    added = as_json(
        initialised(
            "platform", "env", "add-admin", env["id"], "joe@contoso.onmicrosoft.com", "--json"
        )
    )
    assert added["admins"] == [ADMIN, "joe@contoso.onmicrosoft.com"]
    seeded = initialised(
        *("data", "seed", "Field Service", "--dataverse", "--customers", "50"),
        *("--vendors", "5", "--products", "7", "--contacts", "10"),
    )
    assert "Wrote 72 rows" in seeded.stdout
    none = initialised("platform", "env", "create", "Bare", "--no-dataverse")
    assert none.exit_code == 0
    refused = initialised("data", "seed", "Bare", "--dataverse", ok=False)
    assert "Error DW4002" in refused.stderr
    regions = as_json(initialised("platform", "regions", "--json"))
    assert {"name": "West US", "geography": "United States"} in regions


def test_tables_piped_into_a_file_are_not_cut(
    initialised: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert "none" in initialised("project", "list").stdout  # an empty list says so
    initialised("platform", "env", "create", "Contoso Field Service", "--region", "West US")
    env = as_json(initialised("platform", "env", "show", "Contoso Field Service", "--json"))
    table = initialised("platform", "env", "list").stdout
    assert env["id"] in table and "Contoso Field Service" in table
    assert "…" not in table


def test_a_second_tenant_with_a_prompted_password(initialised: Run) -> None:
    initialised(
        *("tenant", "create", "fabrikam.onmicrosoft.com", "--name", "Fabrikam", "--restricted"),
        *("--admin-upn", "admin@fabrikam.onmicrosoft.com", "--admin-name", "Fabrikam Admin"),
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    fabrikam = as_json(initialised("tenant", "show", "fabrikam.onmicrosoft.com", "--json"))
    assert fabrikam["everyone_can_create_environments"] is False
    initialised("login", "--upn", "admin@fabrikam.onmicrosoft.com", input=f"{PASSWORD}\n")
    me = as_json(initialised("whoami", "--json"))
    assert (me["tenant"], me["roles"]) == ("fabrikam.onmicrosoft.com", ["Global administrator"])
