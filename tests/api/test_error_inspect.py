"""GET /api/v1/environments/{env}/errors/{id}: one error with both sides' records, field by
field; unknown IDs, who may look, and a store that cannot be reached — problem details, not 500."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text

from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import PASSWORD, add_user, linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
BASE = "/api/v1/environments/contoso-test/errors"


def _token(client: TestClient, alias: str) -> dict[str, str]:
    upn = f"{alias}@contoso.onmicrosoft.com"
    response = client.post("/api/v1/auth/token", json={"upn": upn, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_inspect_an_error_over_the_api(
    client: TestClient,
    store: ControlStore,
    settings: Settings,
    new_database: Callable[[str], str],
    tmp_path: object,
) -> None:
    fo_url, dv_url = new_database("sqlite"), new_database("sqlite")
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        add_user(session, admin, "joe")  # not a member of the project: cannot see it
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    dv = make_engine(dv_url)
    with dv.begin() as conn:
        conn.execute(
            text("UPDATE account SET name = :n WHERE accountnumber = 'US-000003'"), {"n": "z" * 125}
        )
    dv.dispose()
    worker_ticks(store, 3)
    headers = _token(client, "admin")
    listed_all = client.get(BASE, headers=headers).json()
    assert isinstance(listed_all, list) and len(listed_all) == 1, listed_all
    (listed,) = listed_all

    shown = client.get(f"{BASE}/{listed['id']}", headers=headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert {k: body[k] for k in ("id", "map_name", "direction", "status", "reason")} == {
        "id": listed["id"],
        "map_name": ACCOUNTS,
        "direction": "dv_to_fo",
        "status": "open",
        "reason": listed["reason"],
    }
    assert body["payload"]["name"] == "z" * 125
    assert body["source_record"]["name"] == "z" * 125
    assert body["target_record"]["customeraccount"] == "US-000003"
    differs = [f["target_column"] for f in body["fields"] if f["differs"]]
    assert differs == ["organizationname"]
    assert client.get(f"{BASE}/{listed['id']}?direction=dv_to_fo", headers=headers).json() == body

    unknown = client.get(f"{BASE}/999", headers=headers)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert (unknown.json()["code"], unknown.json()["detail"]) == (
        "DW5013",
        "There is no error 999 in the error log of 'contoso-test'.",
    )
    sideways = client.get(f"{BASE}/{listed['id']}?direction=sideways", headers=headers)
    assert (sideways.status_code, sideways.json()["code"]) == (422, "DW1000")
    hidden = client.get(f"{BASE}/{listed['id']}", headers=_token(client, "joe"))
    assert hidden.status_code in (403, 404) and hidden.json()["code"] != "DW5013"

    # The Dataverse store cannot be opened: the catalogue's error (503), not a 500.
    blocker = dv_url.removeprefix("sqlite:///") + ".blocked"
    with open(blocker, "w"):
        pass
    with store.session() as session:
        session.execute(
            text("UPDATE platform_environments SET dataverse_url = :u"),
            {"u": f"sqlite:///{blocker}/dataverse.db"},
        )
    away = client.get(f"{BASE}/{listed['id']}", headers=headers)
    assert (away.status_code, away.json()["code"]) == (503, "DW2006")
