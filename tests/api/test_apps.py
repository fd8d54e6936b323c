"""REST API of registered applications, their secrets, application users and signing keys:
the answers, the roles that may and may not, and the errors from the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.identity import directory
from dualwrite.settings import Settings
from factories import PASSWORD, add_user
from tokenworld import CONTOSO, TokenWorld, build

Headers = dict[str, str]


@pytest.fixture
def tw(store: ControlStore, settings: Settings, tmp_path: Path) -> TokenWorld:
    world = build(store, settings, tmp_path)
    with store.session() as session:
        add_user(
            session,
            directory.get_user(session, world.contoso.admin),
            "pat",
            roles=("power-platform-admin",),
        )
    return world


@pytest.fixture
def api(settings: Settings, store: ControlStore, tw: TokenWorld) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store)) as client:
        yield client


@pytest.fixture
def as_(api: TestClient) -> Callable[[str], Headers]:
    def sign_in(upn: str) -> Headers:
        answer = api.post("/api/v1/auth/token", json={"upn": upn, "password": PASSWORD})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    return sign_in


def test_an_admin_registers_and_rotates_and_deletes_an_application(
    api: TestClient, as_: Callable[[str], Headers], tw: TokenWorld
) -> None:
    pat = as_(f"pat@{CONTOSO}")
    made = api.post(
        "/api/v1/apps", headers=pat, json={"display_name": "Reporting", "secret_days": 7}
    )
    assert made.status_code == 201, made.text
    created = made.json()
    client_id, secret = created["application"]["client_id"], created["secret"]["secret"]
    assert created["secret"]["client_id"] == client_id and len(secret) >= 40
    assert created["application"]["tenant_id"] == tw.contoso.directory_id
    shown = api.get(f"/api/v1/apps/{client_id}", headers=pat).json()
    assert secret not in str(shown)
    assert [s["hint"] for s in shown["secrets"]] == [secret[:3]]
    assert {a["client_id"] for a in api.get("/api/v1/apps", headers=pat).json()} >= {
        client_id,
        tw.contoso.client_id,
        tw.dualwrite_client_id,
    }
    rotated = api.post(f"/api/v1/apps/{client_id}/secrets", headers=pat, json={})
    assert rotated.status_code == 201
    secrets = api.get(f"/api/v1/apps/{client_id}", headers=pat).json()["secrets"]
    assert [s["expired"] for s in secrets] == [True, False]
    disabled = api.patch(f"/api/v1/apps/{client_id}", headers=pat, json={"enabled": False})
    assert disabled.json()["enabled"] is False
    assert api.delete(f"/api/v1/apps/{client_id}", headers=pat).status_code == 204
    gone = api.get(f"/api/v1/apps/{client_id}", headers=pat)
    assert (gone.status_code, gone.json()["code"]) == (404, "DW1002")


def test_the_dualwrite_application_cannot_be_deleted(
    api: TestClient, as_: Callable[[str], Headers], tw: TokenWorld
) -> None:
    admin = as_(tw.contoso.admin)
    shown = api.get(f"/api/v1/apps/{tw.dualwrite_client_id}", headers=admin).json()
    assert (shown["secrets"], shown["dualwrite_environments"]) == ([], [tw.contoso.fo_env])
    refused = api.delete(f"/api/v1/apps/{tw.dualwrite_client_id}", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "DW3007")


def test_a_plain_user_gets_the_catalogues_403(
    api: TestClient, as_: Callable[[str], Headers], tw: TokenWorld
) -> None:
    joe = as_(tw.user)
    for method, path, body in (
        ("GET", "/api/v1/apps", None),
        ("POST", "/api/v1/apps", {"display_name": "Mine"}),
        ("GET", f"/api/v1/apps/{tw.contoso.client_id}", None),
        ("POST", f"/api/v1/apps/{tw.contoso.client_id}/secrets", {}),
        ("DELETE", f"/api/v1/apps/{tw.contoso.client_id}", None),
        ("GET", "/api/v1/signing-keys", None),
        ("POST", "/api/v1/signing-keys", None),
    ):
        answer = api.request(method, path, headers=joe, json=body)
        assert (answer.status_code, answer.json()["code"]) == (403, "DW3004"), path


def test_bad_input_is_the_catalogues_422(
    api: TestClient, as_: Callable[[str], Headers], tw: TokenWorld
) -> None:
    admin = as_(tw.contoso.admin)
    for body in ({"display_name": ""}, {"display_name": "x", "secret_days": 0}, {}):
        answer = api.post("/api/v1/apps", headers=admin, json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, "DW1000"), body
    past = api.post(
        f"/api/v1/apps/{tw.contoso.client_id}/secrets",
        headers=admin,
        json={"old_secrets_end": "2020-01-01T00:00:00Z"},
    )
    assert (past.status_code, past.json()["code"]) == (422, "DW1000")


def test_application_users_of_an_fo_environment_and_a_dataverse(
    api: TestClient, as_: Callable[[str], Headers], tw: TokenWorld
) -> None:
    admin = as_(tw.contoso.admin)
    fo = f"/api/v1/environments/{tw.contoso.fo_env}/app-users"
    dataverse = f"/api/v1/platform/environments/{tw.contoso.dataverse_id}/app-users"
    assert [(u["client_id"], u["dualwrite"]) for u in api.get(fo, headers=admin).json()] == [
        (tw.dualwrite_client_id, True)
    ]
    granted = api.put(
        f"{fo}/{tw.contoso.client_id}",
        headers=admin,
        json={"security_role": "System administrator"},
    )
    assert granted.status_code == 200, granted.text
    assert [u["security_role"] for u in granted.json()] == ["System administrator"] * 2
    again = api.put(
        f"{dataverse}/{tw.contoso.client_id}",
        headers=admin,
        json={"security_role": "System Administrator", "enabled": False},
    ).json()
    assert [(u["kind"], u["enabled"]) for u in again] == [("dataverse", True), ("dataverse", False)]
    assert api.delete(f"{fo}/{tw.contoso.client_id}", headers=admin).status_code == 204
    own = api.put(f"{fo}/{tw.dualwrite_client_id}", headers=admin, json={"security_role": "x"})
    assert (own.status_code, own.json()["code"]) == (409, "DW3009")
    foreign = api.put(f"{fo}/{tw.fabrikam.client_id}", headers=admin, json={"security_role": "x"})
    assert (foreign.status_code, foreign.json()["code"]) == (404, "DW1002")


def test_an_operator_rotates_and_retires_signing_keys(
    api: TestClient, as_: Callable[[str], Headers], tw: TokenWorld
) -> None:
    operator = as_(tw.contoso.admin)  # the first tenant's administrator
    first = api.post("/api/v1/signing-keys", headers=operator).json()
    second = api.post("/api/v1/signing-keys", headers=operator).json()
    keys = api.get("/api/v1/signing-keys", headers=operator).json()
    assert [(k["kid"], k["active"]) for k in keys] == [(second["kid"], True), (first["kid"], False)]
    active = api.post(f"/api/v1/signing-keys/{second['kid']}/retire", headers=operator)
    assert (active.status_code, active.json()["code"]) == (409, "DW3010")
    retired = api.post(f"/api/v1/signing-keys/{first['kid']}/retire", headers=operator).json()
    assert (retired["published"], retired["retired_at"] is not None) == (False, True)
    jwks = api.get("/common/discovery/keys").json()["keys"]
    assert [k["kid"] for k in jwks] == [second["kid"]]
