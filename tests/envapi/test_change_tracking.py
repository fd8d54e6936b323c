"""Dataverse change tracking over the store's change log, on every backend: a delta link
returns exactly what changed since it was issued — through the API and through plain SQL —
with deleted rows as $deletedEntity, and nothing once nothing changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import create_engine, delete, insert, select, update

from dualwrite.stores import dataverse as dv
from envapi.conftest import ACCOUNTS, World

TRACK = {"Prefer": "odata.track-changes, odata.maxpagesize=12"}


def _delta_link(admin: httpx.Client, world: World) -> str:
    url: str | None = f"{world.dataverse}/accounts?$select=name,accountnumber"
    seen = 0
    link = None
    while url:
        response = admin.get(url, headers=TRACK)
        assert response.status_code == 200, response.text
        assert "odata.track-changes" in response.headers["Preference-Applied"]
        body = response.json()
        seen += len(body["value"])
        url = body.get("@odata.nextLink")
        link = body.get("@odata.deltaLink")
        assert (url is None) == (link is not None)  # only the last page carries the delta link
    assert seen == ACCOUNTS
    assert link is not None and "$deltatoken=" in link and "$select=name" in link
    return str(link)


def test_delta_returns_exactly_the_changes(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    link = _delta_link(admin, world)
    nothing = admin.get(link).json()
    assert nothing["value"] == [] and "@odata.deltaLink" in nothing

    engine = create_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(select(dv.account).order_by(dv.account.c.accountid)).mappings().all()
            )
        changed_by_api, deleted_by_api, changed_by_sql, deleted_by_sql = (
            rows[0]["accountid"],
            rows[1]["accountid"],
            rows[2]["accountid"],
            rows[3]["accountid"],
        )
        company = rows[0]["msdyn_company"]
        assert (
            admin.patch(
                f"{base}/accounts({changed_by_api})", json={"name": "API change"}
            ).status_code
            == 204
        )
        assert admin.delete(f"{base}/accounts({deleted_by_api})").status_code == 204
        created = admin.post(
            f"{base}/accounts",
            json={
                "name": "API new",
                "accountnumber": "CT-1",
                "msdyn_company@odata.bind": f"/cdm_companies({company})",
            },
        )
        created_by_api = created.headers["OData-EntityId"].rsplit("(", 1)[1][:-1]
        created_by_sql = str(uuid.uuid4())
        now = datetime.now(UTC)
        with engine.begin() as conn:  # plain SQL, as any other client of the database
            conn.execute(
                update(dv.account)
                .where(dv.account.c.accountid == changed_by_sql)
                .values(name="SQL change", modifiedon=now)
            )
            conn.execute(delete(dv.account).where(dv.account.c.accountid == deleted_by_sql))
            conn.execute(
                insert(dv.account).values(
                    accountid=created_by_sql,
                    name="SQL new",
                    accountnumber="CT-2",
                    msdyn_company=company,
                )
            )
    finally:
        engine.dispose()

    delta = admin.get(link)
    assert delta.status_code == 200, delta.text
    body = delta.json()
    assert body["@odata.context"] == f"{base}/$metadata#accounts(name,accountnumber)/$delta"
    changed = {r["accountid"]: r for r in body["value"] if "reason" not in r}
    deleted = [r for r in body["value"] if "reason" in r]
    assert set(changed) == {changed_by_api, changed_by_sql, created_by_api, created_by_sql}
    assert changed[changed_by_api]["name"] == "API change"
    assert changed[created_by_sql]["name"] == "SQL new"
    assert all("@odata.context" not in r for r in changed.values())
    assert sorted(d["id"] for d in deleted) == sorted([deleted_by_api, deleted_by_sql])
    assert deleted[0] == {
        "@odata.context": f"{base}/$metadata#accounts/$deletedEntity",
        "id": deleted[0]["id"],
        "reason": "deleted",
    }
    following = body["@odata.deltaLink"]
    assert following != link
    assert admin.get(following).json()["value"] == []
    assert (
        admin.patch(f"{base}/accounts({changed_by_api})", json={"name": "Again"}).status_code == 204
    )
    again = admin.get(following).json()["value"]
    assert [(r["accountid"], r["name"]) for r in again] == [(changed_by_api, "Again")]

    refused = admin.get(f"{base}/accounts?$filter=name eq 'x'", headers=TRACK)
    assert refused.status_code == 400 and "change tracking" in refused.json()["error"]["message"]
    tampered = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert admin.get(tampered).status_code == 400
    definitions = admin.get(
        f"{base}/EntityDefinitions(LogicalName='account')?$select=ChangeTrackingEnabled"
    ).json()
    assert definitions["ChangeTrackingEnabled"] is True


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=False)
def test_a_write_in_flight_at_the_start_is_not_lost(world: World, admin: httpx.Client) -> None:
    """Positions are handed out before commit: a transaction still open when the delta link is
    issued, with a lower position than one committed after it, still shows in the delta."""
    _delta_link(admin, world)  # capture on
    engine = create_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            company = conn.scalar(select(dv.cdm_company.c.cdm_companyid))
        slow, fast = str(uuid.uuid4()), str(uuid.uuid4())
        with engine.connect() as open_conn:
            pending = open_conn.begin()
            open_conn.execute(
                insert(dv.account).values(
                    accountid=slow, name="Slow", accountnumber="IF-1", msdyn_company=company
                )
            )
            with engine.begin() as conn:
                conn.execute(
                    insert(dv.account).values(
                        accountid=fast, name="Fast", accountnumber="IF-2", msdyn_company=company
                    )
                )
            link = _delta_link_with(admin, world, ACCOUNTS + 1)
            pending.commit()
    finally:
        engine.dispose()
    changed = {r["accountid"] for r in admin.get(link).json()["value"]}
    assert slow in changed  # the fast one may come again too: never lost, sometimes repeated


def _delta_link_with(admin: httpx.Client, world: World, expected: int) -> str:
    response = admin.get(
        f"{world.dataverse}/accounts?$select=name", headers={"Prefer": "odata.track-changes"}
    )
    body = response.json()
    assert len(body["value"]) == expected
    return str(body["@odata.deltaLink"])
