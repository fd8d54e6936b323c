"""LCS projects and F&O environments over the API: roles, validation, nothing half-created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

Login = Callable[[str], dict[str, str]]


def test_environment_deploy_and_detail(client: TestClient, login: Login) -> None:
    admin, joe = login("admin"), login("joe")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    client.post(
        "/api/v1/projects/Rollout/members",
        json={"upn": "joe@contoso.onmicrosoft.com", "role": "team-member"},
        headers=admin,
    )
    body = {"name": "contoso-test", "project": "Rollout", "legal_entities": ["USMF", "DEMF"]}
    refused = client.post("/api/v1/environments", json=body, headers=joe)
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3004")
    created = client.post("/api/v1/environments", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["geography"] == "United States"
    detail = client.get("/api/v1/environments/contoso-test", headers=joe).json()
    assert [e["id"] for e in detail["legal_entities"]] == ["DEMF", "USMF"]
    assert detail["row_counts"]["legalentities"] == 2
    initial = detail["power_platform_environment"]
    pp = client.get(f"/api/v1/platform/environments/{initial}", headers=admin).json()
    assert (pp["initial"], pp["dataverse"], pp["fo_environment"]) == (True, False, "contoso-test")


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"region": "Atlantis"}, "DW1003", 422),
        ({"data_store_url": "oracle://x/y"}, "DW2001", 422),
        ({"data_store_url": "postgresql+psycopg://postgres@127.0.0.1:1/x"}, "DW2002", 503),
        ({"name": 42}, "DW1000", 422),
        ({"legal_entities": "USMF"}, "DW1000", 422),
    ],
)
def test_bad_environment_input_changes_nothing(
    client: TestClient, login: Login, change: dict[str, object], code: str, status: int
) -> None:
    admin = login("admin")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    body = {"name": "contoso-test", "project": "Rollout", **change}
    response = client.post("/api/v1/environments", json=body, headers=admin)
    assert (response.status_code, response.json()["code"]) == (status, code)
    problem = response.json()
    assert set(problem) >= {"type", "title", "status", "code", "detail", "hint"}
    assert client.get("/api/v1/environments", headers=admin).json() == []
    assert client.get("/api/v1/platform/environments", headers=admin).json() == []


def test_a_data_store_file_that_is_not_a_database_is_dw2002(
    client: TestClient, login: Login, tmp_path: Path
) -> None:
    admin = login("admin")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 200)
    body = {"name": "contoso-test", "project": "Rollout", "data_store_url": f"sqlite:///{notes}"}
    response = client.post("/api/v1/environments", json=body, headers=admin)
    assert (response.status_code, response.json()["code"]) == (503, "DW2002")
    assert "file is not a database" in response.json()["detail"]
    assert client.get("/api/v1/environments", headers=admin).json() == []


def test_project_names_are_unique_per_tenant(client: TestClient, login: Login) -> None:
    admin = login("admin")
    assert client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin).is_success
    duplicate = client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "DW1001")
    assert [p["name"] for p in client.get("/api/v1/projects", headers=admin).json()] == ["Rollout"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("project-owner", 201), ("environment-manager", 201), ("team-member", 403)],
)
def test_deploying_needs_project_owner_or_environment_manager(
    client: TestClient, login: Login, role: str, status: int
) -> None:
    admin, joe = login("admin"), login("joe")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    member = {"upn": "joe@contoso.onmicrosoft.com", "role": role}
    added = client.post("/api/v1/projects/Rollout/members", json=member, headers=admin)
    assert added.status_code == 200, added.text
    body = {"name": "joe-env", "project": "Rollout", "legal_entities": ["USMF"]}
    response = client.post("/api/v1/environments", json=body, headers=joe)
    assert response.status_code == status, response.text
    listed = client.get("/api/v1/environments", headers=joe).json()
    assert len(listed) == (1 if status == 201 else 0)


def test_only_project_owners_manage_members(client: TestClient, login: Login) -> None:
    admin, joe = login("admin"), login("joe")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    member = {"upn": "joe@contoso.onmicrosoft.com", "role": "environment-manager"}
    client.post("/api/v1/projects/Rollout/members", json=member, headers=admin)
    pat = {"upn": "pat@contoso.onmicrosoft.com", "role": "team-member"}
    refused = client.post("/api/v1/projects/Rollout/members", json=pat, headers=joe)
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3004")
    removed = client.delete(
        "/api/v1/projects/Rollout/members/joe@contoso.onmicrosoft.com", headers=admin
    )
    assert [m["upn"] for m in removed.json()["members"]] == ["admin@contoso.onmicrosoft.com"]
    gone = client.get("/api/v1/projects/Rollout", headers=joe)
    assert (gone.status_code, gone.json()["code"]) == (404, "DW1002")


def test_environment_names_are_unique(client: TestClient, login: Login) -> None:
    admin = login("admin")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    body = {"name": "contoso-test", "project": "Rollout", "legal_entities": ["USMF"]}
    assert client.post("/api/v1/environments", json=body, headers=admin).status_code == 201
    duplicate = client.post("/api/v1/environments", json=body, headers=admin)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "DW1001")
    assert len(client.get("/api/v1/environments", headers=admin).json()) == 1
    assert len(client.get("/api/v1/platform/environments", headers=admin).json()) == 1
