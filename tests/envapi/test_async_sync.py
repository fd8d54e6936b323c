"""Writes through either API are captured like any other write: with the accounts map running,
the sync worker carries a customer created through F&O OData to Dataverse, and a change made
through the Dataverse Web API back to F&O (asynchronous dual-write; the synchronous step will
run in `write_rows`' before_commit hook)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from dualwrite.control.models import DualWriteLink, User
from dualwrite.control.store import ControlStore
from dualwrite.link import tablemaps
from envapi.conftest import World
from factories import worker_ticks

ACCOUNTS_MAP = "Customers V3 (accounts)"


def test_api_writes_reach_the_other_side(
    world: World, admin: httpx.Client, store: ControlStore
) -> None:
    with store.session() as session:
        actor = session.scalars(select(User).where(User.upn.startswith("admin@contoso"))).one()
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.run_maps(session, actor, link, [ACCOUNTS_MAP], initial_sync=True)
    worker_ticks(store)
    created = admin.post(
        f"{world.fo}/CustomersV3",
        json={
            "CustomerAccount": "SYNC-1",
            "OrganizationName": "Synced through OData",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
        },
    )
    assert created.status_code == 201, created.text
    worker_ticks(store)
    found = admin.get(
        f"{world.dataverse}/accounts?$filter=accountnumber eq 'SYNC-1'&$select=name"
    ).json()["value"]
    assert [a["name"] for a in found] == ["Synced through OData"]
    changed = admin.patch(
        f"{world.dataverse}/accounts({found[0]['accountid']})",
        json={"name": "Renamed in Dataverse"},
    )
    assert changed.status_code == 204
    worker_ticks(store)
    customer = admin.get(
        f"{world.fo}/CustomersV3(dataAreaId='usmf',CustomerAccount='SYNC-1')?$select=OrganizationName"
    ).json()
    assert customer["OrganizationName"] == "Renamed in Dataverse"
