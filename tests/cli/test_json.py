"""Every --json output is exactly the REST API's schema, so scripts can use either."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from clirun import Run, as_json, integrate
from dualwrite.schemas import (
    ActivityRead,
    CapacityRead,
    EnvironmentDetail,
    EnvironmentRead,
    LicenseRead,
    LinkRead,
    PlatformEnvironmentRead,
    ProjectRead,
    RegionRead,
    TableMapRead,
    TenantRead,
    UserRead,
)
from factories import PASSWORD

ADMIN = "admin@contoso.onmicrosoft.com"
TENANT = "contoso.onmicrosoft.com"

# (command, schema, is a list)
OUTPUTS: list[tuple[tuple[str, ...], type[BaseModel], bool]] = [
    (("whoami",), UserRead, False),
    (("tenant", "list"), TenantRead, True),
    (("tenant", "show", TENANT), TenantRead, False),
    (("tenant", "settings", TENANT, "--capacity-gb", "12"), TenantRead, False),
    (("tenant", "capacity", TENANT), CapacityRead, False),
    (
        (
            *("tenant", "create", "fabrikam.onmicrosoft.com", "--name", "Fabrikam"),
            *("--admin-upn", "admin@fabrikam.onmicrosoft.com", "--admin-name", "Fabrikam Admin"),
            *("--admin-password", PASSWORD),
        ),
        TenantRead,
        False,
    ),
    (("user", "list"), UserRead, True),
    (("user", "show", ADMIN), UserRead, False),
    (
        (
            *("user", "create", "--upn", "pat@contoso.onmicrosoft.com", "--name", "Pat"),
            *("--password", PASSWORD, "--license", "D365_FINANCE"),
        ),
        UserRead,
        False,
    ),
    (("user", "grant", ADMIN, "power-platform-admin"), UserRead, False),
    (("user", "license", ADMIN, "D365_FINANCE"), UserRead, False),
    (("license", "list"), LicenseRead, True),
    (("project", "list"), ProjectRead, True),
    (("project", "show", "ERP"), ProjectRead, False),
    (("project", "create", "Second"), ProjectRead, False),
    (("env", "list"), EnvironmentRead, True),
    (("env", "list", "--project", "ERP"), EnvironmentRead, True),
    (("env", "show", "contoso-test"), EnvironmentDetail, False),
    (("env", "create", "contoso-two", "--project", "ERP"), EnvironmentRead, False),
    (("platform", "regions"), RegionRead, True),
    (("platform", "env", "list"), PlatformEnvironmentRead, True),
    (("platform", "env", "show", "Sales"), PlatformEnvironmentRead, False),
    (("platform", "env", "create", "Marketing"), PlatformEnvironmentRead, False),
    (("platform", "env", "add-admin", "Sales", ADMIN), PlatformEnvironmentRead, False),
    (("link", "show", "contoso-test"), LinkRead, False),
    (("maps", "list", "contoso-test"), TableMapRead, True),
    (("maps", "activity", "contoso-test"), ActivityRead, True),
]


@pytest.fixture
def world(initialised: Run) -> Run:
    initialised("project", "create", "ERP")
    initialised("env", "create", "contoso-test", "--project", "ERP", "--legal-entity", "USMF")
    initialised("platform", "env", "create", "Sales")
    integrate(initialised, "contoso-test", "Sales")
    initialised(
        "link",
        "create",
        "contoso-test",
        "--dataverse",
        "Sales",
        "--legal-entity",
        "USMF",
        "--consent",
    )
    initialised("link", "apply-solution", "contoso-test")
    return initialised


@pytest.mark.parametrize(
    ("command", "schema", "many"), OUTPUTS, ids=[" ".join(c) for c, *_ in OUTPUTS]
)
def test_json_output_is_the_api_schema(
    world: Run, command: tuple[str, ...], schema: type[BaseModel], many: bool
) -> None:
    data: Any = as_json(world(*command, "--json"))
    shape: Any = list[schema] if many else schema  # type: ignore[valid-type]
    parsed = TypeAdapter(shape).validate_python(data)
    assert TypeAdapter(shape).dump_python(parsed, mode="json") == data  # nothing more, nothing less
    if many:
        assert data, "a list worth checking"
