"""Dataverse Web API writes over real HTTP on every backend: create, upsert, update with
ETags, delete, lookups bound and read back, CreateMultiple/UpsertMultiple, refused input that
leaves nothing written."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, func, select

from dualwrite.stores import dataverse as dv
from envapi.conftest import ACCOUNTS, World

NOWHERE = "11111111-1111-1111-1111-111111111111"


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


def _scalar(world: World, query: object) -> object:
    engine = create_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(query)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def _references(world: World) -> tuple[str, str]:
    """A customer group and the company of the seeded accounts."""
    group = _scalar(world, select(dv.msdyn_customergroup.c.msdyn_customergroupid).limit(1))
    company = _scalar(world, select(dv.cdm_company.c.cdm_companyid).limit(1))
    return str(group), str(company)


def test_create_update_upsert_delete(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    group, company = _references(world)
    record = {
        "name": "Fabrikam",
        "accountnumber": "API-1",
        "creditlimit": 1500.5,
        "msdyn_company@odata.bind": f"/cdm_companies({company})",
        "msdyn_customergroupid@odata.bind": f"{base}/msdyn_customergroups({group})",
    }
    created = admin.post(f"{base}/accounts", json=record)
    assert created.status_code == 204, created.text
    entity_id = created.headers["OData-EntityId"]
    assert entity_id.startswith(f"{base}/accounts(") and entity_id.endswith(")")
    guid = entity_id.rsplit("(", 1)[1][:-1]
    row = admin.get(
        f"{base}/accounts({guid})",
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'},
    ).json()
    assert row["_msdyn_customergroupid_value"] == group
    assert row["_msdyn_customergroupid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == (
        "msdyn_customergroup"
    )
    assert row["creditlimit"] == 1500.5

    shown = admin.post(
        f"{base}/accounts?$select=name,accountnumber",
        json={**record, "accountnumber": "API-2"},
        headers={"Prefer": "return=representation"},
    )
    assert shown.status_code == 201, shown.text
    assert shown.headers["Preference-Applied"] == "return=representation"
    body = shown.json()
    assert body["@odata.context"] == f"{base}/$metadata#accounts(name,accountnumber)/$entity"
    assert body["accountnumber"] == "API-2" and body["@odata.etag"].startswith('W/"')

    etag = row["@odata.etag"]
    stale = admin.patch(
        f"{base}/accounts({guid})", json={"name": "Stale"}, headers={"If-Match": 'W/"1"'}
    )
    assert "version" in _error(stale, 412, "0x80060882")
    updated = admin.patch(
        f"{base}/accounts({guid})", json={"name": "Renamed"}, headers={"If-Match": etag}
    )
    assert updated.status_code == 204
    after = admin.get(f"{base}/accounts({guid})").json()
    assert after["name"] == "Renamed" and after["@odata.etag"] != etag
    assert admin.get(f"{base}/accounts({guid})", headers={"If-None-Match": etag}).status_code == 200

    new = "7f0e2f4c-9a44-4b8e-8c2a-0a9a5f7d1e01"
    missing = admin.patch(f"{base}/accounts({new})", json={"name": "X"}, headers={"If-Match": "*"})
    _error(missing, 404, "0x80040217")
    upsert_new = {**record, "accountnumber": "API-3"}
    assert (
        admin.patch(
            f"{base}/accounts({new})", json=upsert_new, headers={"If-None-Match": "null"}
        ).status_code
        == 204
    )
    assert admin.get(f"{base}/accounts({new})").json()["accountnumber"] == "API-3"
    again = admin.patch(f"{base}/accounts({new})", json=upsert_new, headers={"If-None-Match": "*"})
    assert _error(again, 412, "0x80040237") == "A record with matching key values already exists."
    assert admin.patch(f"{base}/accounts({new})", json={"name": "Upserted"}).status_code == 204
    assert admin.get(f"{base}/accounts({new})").json()["name"] == "Upserted"
    by_key = admin.patch(
        f"{base}/accounts(accountnumber='API-4',msdyn_company={company})",
        json={
            "name": "By key",
            "msdyn_customergroupid@odata.bind": f"/msdyn_customergroups({group})",
        },
    )
    assert by_key.status_code == 204, by_key.text
    assert admin.get(f"{base}/accounts(accountnumber='API-4')").json()["name"] == "By key"

    assert admin.delete(f"{base}/accounts({new})").status_code == 204
    _error(admin.delete(f"{base}/accounts({new})"), 404, "0x80040217")
    _error(admin.get(f"{base}/accounts({new})"), 404, "0x80040217")
    total = _scalar(world, select(func.count()).select_from(dv.account))
    assert total == ACCOUNTS + 3


def test_refused_writes_leave_nothing(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    group, company = _references(world)
    good = {
        "name": "Ok",
        "accountnumber": "REF-1",
        "msdyn_company@odata.bind": f"/cdm_companies({company})",
    }
    cases = [
        ({**good, "Name": "x"}, 400, "0x0", "does not exist on type"),
        ({**good, "name": "x" * 161}, 400, "0x80044331", "maximum allowed length of '160'"),
        ({**good, "creditlimit": "lots"}, 400, "0x0", "Edm.Decimal"),
        ({**good, "creditonhold": 1}, 400, "0x0", "Edm.Boolean"),
        ({**good, "_msdyn_company_value": company}, 400, "0x0", "msdyn_company@odata.bind"),
        (
            {
                **good,
                "msdyn_customergroupid@odata.bind": f"/msdyn_customergroups({NOWHERE})",
            },
            400,
            "0x80040217",
            "Does Not Exist",
        ),
        (
            {**good, "msdyn_customergroupid@odata.bind": f"/accounts({group})"},
            400,
            "0x0",
            "relates to",
        ),
        ({"name": "no company", "accountnumber": "REF-2"}, 400, "0x80044331", "msdyn_company"),
    ]
    for body, status, code, words in cases:
        message = _error(admin.post(f"{base}/accounts", json=body), status, code)
        assert words in message, message
    assert "not valid JSON" in _error(
        admin.post(
            f"{base}/accounts", content=b"{nope", headers={"Content-Type": "application/json"}
        ),
        400,
        "0x80048d19",
    )
    _error(
        admin.post(
            f"{base}/accounts", content=b"name=x", headers={"Content-Type": "application/xml"}
        ),
        415,
        "0x80048d19",
    )
    duplicate = admin.post(f"{base}/accounts", json=good)
    assert duplicate.status_code == 204
    assert "already exists" in _error(admin.post(f"{base}/accounts", json=good), 412, "0x80040237")
    total = _scalar(world, select(func.count()).select_from(dv.account))
    assert total == ACCOUNTS + 1


def test_create_and_upsert_multiple(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    _group, company = _references(world)
    bind = f"/cdm_companies({company})"
    targets = [
        {
            "@odata.type": "Microsoft.Dynamics.CRM.account",
            "name": f"M{i}",
            "accountnumber": f"M-{i}",
            "msdyn_company@odata.bind": bind,
        }
        for i in range(5)
    ]
    created = admin.post(
        f"{base}/accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets}
    )
    assert created.status_code == 200, created.text
    ids = created.json()["Ids"]
    assert len(ids) == 5
    upserts = [
        {"accountid": ids[0], "name": "M0 changed"},
        {"name": "M9", "accountnumber": "M-9", "msdyn_company@odata.bind": bind},
        {
            "@odata.id": f"accounts(accountnumber='M-1',msdyn_company={company})",
            "name": "M1 changed",
        },
    ]
    upserted = admin.post(
        f"{base}/accounts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": upserts}
    )
    assert upserted.status_code == 200, upserted.text
    assert upserted.json()["Ids"][0] == ids[0] and upserted.json()["Ids"][2] == ids[1]
    assert admin.get(f"{base}/accounts({ids[0]})").json()["name"] == "M0 changed"
    assert admin.get(f"{base}/accounts({ids[1]})").json()["name"] == "M1 changed"
    # One bad target: none of them is written.
    bad = [
        *targets[:2],
        {"name": "x" * 200, "accountnumber": "M-X", "msdyn_company@odata.bind": bind},
    ]
    for index, target in enumerate(bad[:2]):
        target["accountnumber"] = f"N-{index}"
    _error(
        admin.post(f"{base}/accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": bad}),
        400,
        "0x80044331",
    )
    too_many = [{"name": "x", "accountnumber": f"T-{i}"} for i in range(1001)]
    _error(
        admin.post(
            f"{base}/accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": too_many}
        ),
        400,
        "0x80040203",
    )
    total = _scalar(world, select(func.count()).select_from(dv.account))
    assert total == ACCOUNTS + 6
