"""Synchronous dual-write through the environment APIs (issue 12), over real HTTP on every
backend, driven the way a client written for Microsoft's services is: a registered application
signs in with its client secret at the token endpoint, then lists, filters, pages, creates,
updates, upserts and deletes through the Dataverse Web API and F&O OData — and each write is on
the other side when its request returns, or on neither side, with the error naming the map."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text

from dualwrite.control.models import DualWriteLink, FoEnvironment, PlatformEnvironment, User
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity import apps
from dualwrite.identity.environment_access import grant_application_user
from dualwrite.link import tablemaps
from dualwrite.stores import fo
from envapi.conftest import World
from factories import worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
GROUPS = "Customer groups (msdyn_customergroups)"
TENANT = "contoso.onmicrosoft.com"


def _admin(session: Any) -> User:
    return session.scalars(select(User).where(User.upn == f"admin@{TENANT}")).one()


@pytest.fixture
def running(world: World, store: ControlStore) -> World:
    """Every default map Running after an initial sync from F&O."""
    with store.session() as session:
        link = session.scalars(select(DualWriteLink)).one()
        names = [m.name for m in link.table_maps]
        tablemaps.run_maps(session, _admin(session), link, names, initial_sync=True)
    worker_ticks(store, 12)
    with store.session() as session:
        link = session.scalars(select(DualWriteLink)).one()
        assert {m.state for m in link.table_maps} == {"Running"}
    return world


def _client(world: World, store: ControlStore, resource: str) -> httpx.Client:
    """What any OAuth client does: the client credentials grant for `<resource>/.default`."""
    with store.session() as session:
        admin = _admin(session)
        app, secret = apps.create_application(session, admin, "Contoso integration")
        for env in (
            session.scalars(select(FoEnvironment)).one(),
            session.scalars(
                select(PlatformEnvironment).where(PlatformEnvironment.name == "Sales")
            ).one(),
        ):
            grant_application_user(session, admin, env, app.client_id, "System Administrator")
        client_id = app.client_id
    token = httpx.post(
        f"{world.url}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret.value,
            "scope": f"{resource}/.default",
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return httpx.Client(headers=headers, timeout=60)


@pytest.fixture
def dataverse(running: World, store: ControlStore) -> Iterator[httpx.Client]:
    with _client(running, store, running.dataverse.removesuffix("/api/data/v9.2")) as client:
        yield client


@pytest.fixture
def finops(running: World, store: ControlStore) -> Iterator[httpx.Client]:
    with _client(running, store, running.fo.removesuffix("/data")) as client:
        yield client


def _fo_customer(world: World, account: str) -> dict[str, Any] | None:
    engine = make_engine(world.fo_url)
    try:
        with engine.connect() as conn:
            row = (
                conn.execute(
                    select(fo.customersv3).where(fo.customersv3.c.customeraccount == account)
                )
                .mappings()
                .first()
            )
            return dict(row) if row else None
    finally:
        engine.dispose()


def _dv_account(world: World, number: str) -> dict[str, Any] | None:
    engine = make_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            row = (
                conn.execute(
                    text("SELECT name, accountid FROM account WHERE accountnumber = :n"),
                    {"n": number},
                )
                .mappings()
                .first()
            )
            return dict(row) if row else None
    finally:
        engine.dispose()


def _one(client: httpx.Client, url: str) -> str:
    values = client.get(url).json()["value"]
    assert len(values) == 1, values
    return str(
        next(iter(v for k, v in values[0].items() if k.endswith("id") and not k.startswith("@")))
    )


def test_accounts_through_the_web_api_are_in_fo_when_the_request_returns(
    running: World, dataverse: httpx.Client
) -> None:
    api = running.dataverse
    # List, filter and page as any Web API client does.
    page = dataverse.get(
        f"{api}/accounts?$select=name,accountnumber&$filter=startswith(accountnumber,'US-')"
        "&$orderby=accountnumber",
        headers={"Prefer": "odata.maxpagesize=5"},
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert len(body["value"]) == 5 and "@odata.nextLink" in body
    assert (
        len(
            dataverse.get(
                body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=5"}
            ).json()["value"]
        )
        >= 1
    )

    company = _one(
        dataverse, f"{api}/cdm_companies?$select=cdm_companyid&$filter=cdm_companycode eq 'USMF'"
    )
    group = _one(
        dataverse,
        f"{api}/msdyn_customergroups?$select=msdyn_customergroupid&$filter=msdyn_groupid eq '10'",
    )
    currency = _one(
        dataverse,
        f"{api}/transactioncurrencies?$select=transactioncurrencyid"
        "&$filter=isocurrencycode eq 'USD'",
    )
    created = dataverse.post(
        f"{api}/accounts",
        json={
            "accountnumber": "API-100",
            "name": "Created through the Web API",
            "msdyn_company@odata.bind": f"/cdm_companies({company})",
            "msdyn_customergroupid@odata.bind": f"/msdyn_customergroups({group})",
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})",
        },
    )
    assert created.status_code == 204, created.text
    entity = created.headers["OData-EntityId"]
    customer = _fo_customer(running, "API-100")  # no worker pass in between
    assert customer is not None and customer["organizationname"] == "Created through the Web API"
    assert (customer["dataareaid"], customer["customergroupid"]) == ("USMF", "10")

    assert dataverse.patch(entity, json={"name": "Updated"}).status_code == 204
    assert _fo_customer(running, "API-100")["organizationname"] == "Updated"  # type: ignore[index]
    upsert = dataverse.patch(
        f"{api}/accounts(accountnumber='API-100',msdyn_company={company})",
        json={"name": "Upserted by its key"},
    )
    assert upsert.status_code == 204, upsert.text
    assert _fo_customer(running, "API-100")["organizationname"] == "Upserted by its key"  # type: ignore[index]
    assert dataverse.delete(entity).status_code == 204
    assert _fo_customer(running, "API-100") is None


def test_customers_through_fo_odata_are_in_dataverse_when_the_request_returns(
    running: World, finops: httpx.Client, store: ControlStore
) -> None:
    api = running.fo
    listed = finops.get(f"{api}/CustomersV3?$select=CustomerAccount,OrganizationName&$top=3")
    assert listed.status_code == 200 and len(listed.json()["value"]) == 3
    created = finops.post(
        f"{api}/CustomersV3",
        json={
            "CustomerAccount": "API-200",
            "OrganizationName": "Created through OData",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
        },
    )
    assert created.status_code == 201, created.text
    assert _dv_account(running, "API-200")["name"] == "Created through OData"  # type: ignore[index]
    record = f"{api}/CustomersV3(dataAreaId='usmf',CustomerAccount='API-200')"
    assert finops.patch(record, json={"OrganizationName": "Renamed"}).status_code == 204
    assert _dv_account(running, "API-200")["name"] == "Renamed"  # type: ignore[index]
    before = _counters(running)
    # The worker sees the captured changes: the accounts map leaves them alone (applied and
    # counted already), the contacts map, whose filter they do not pass, counts them skipped.
    worker_ticks(store, 3)
    assert _counters(running) == before
    assert finops.delete(record).status_code == 204
    assert _dv_account(running, "API-200") is None


def test_a_write_the_other_side_cannot_take_is_on_neither_side(
    running: World, finops: httpx.Client, dataverse: httpx.Client, store: ControlStore
) -> None:
    """A customer group added with plain SQL while its map is paused is not in Dataverse: a
    customer of that group cannot be written there, so it is not kept in F&O either."""
    with store.session() as session:
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.pause_maps(session, _admin(session), link, [GROUPS])
    engine = make_engine(running.fo_url)
    with engine.begin() as conn:
        conn.execute(
            insert(fo.customergroups).values(
                dataareaid="USMF", customergroupid="NEW", description="New"
            )
        )
    engine.dispose()
    refused = finops.post(
        f"{running.fo}/CustomersV3",
        json={
            "CustomerAccount": "API-300",
            "OrganizationName": "Of a group Dataverse lacks",
            "CustomerGroupId": "NEW",
            "SalesCurrencyCode": "USD",
        },
    )
    assert refused.status_code == 400, refused.text
    message = refused.json()["error"]["innererror"]["message"] + refused.json()["error"]["message"]
    assert f"Writes to table map '{ACCOUNTS}' failed" in message
    assert "Unable to write data to entity account" in message
    assert _fo_customer(running, "API-300") is None and _dv_account(running, "API-300") is None

    # From Dataverse: an account without the customer group F&O requires.
    api = running.dataverse
    company = _one(
        dataverse, f"{api}/cdm_companies?$select=cdm_companyid&$filter=cdm_companycode eq 'USMF'"
    )
    no_group = dataverse.post(
        f"{api}/accounts",
        json={
            "accountnumber": "API-301",
            "name": "No group",
            "msdyn_company@odata.bind": f"/cdm_companies({company})",
        },
    )
    assert no_group.status_code == 400, no_group.text
    assert no_group.json()["error"]["code"] == "0x80040265"
    assert ACCOUNTS in no_group.json()["error"]["message"]
    assert _dv_account(running, "API-301") is None and _fo_customer(running, "API-301") is None


def test_a_paused_map_queues_the_write(
    running: World, finops: httpx.Client, store: ControlStore
) -> None:
    with store.session() as session:
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.pause_maps(session, _admin(session), link, [ACCOUNTS])
    created = finops.post(
        f"{running.fo}/CustomersV3",
        json={
            "CustomerAccount": "API-400",
            "OrganizationName": "Queued",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
        },
    )
    assert created.status_code == 201, created.text
    assert _dv_account(running, "API-400") is None  # held by the paused map
    with store.session() as session:
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.resume_maps(session, _admin(session), link, [ACCOUNTS])
    worker_ticks(store, 4)
    assert _dv_account(running, "API-400")["name"] == "Queued"  # type: ignore[index]


def test_the_other_side_down_refuses_the_write(
    running: World, finops: httpx.Client, store: ControlStore, tmp_path: Any
) -> None:
    with store.session() as session:  # the Dataverse's store is away (a folder where its file was)
        target = session.scalars(
            select(PlatformEnvironment).where(PlatformEnvironment.name == "Sales")
        ).one()
        target.dataverse_url = f"sqlite:///{tmp_path / 'gone' / 'x.db'}"
        (tmp_path / "gone").write_text("")  # a file where the folder should be
    refused = finops.post(
        f"{running.fo}/CustomersV3",
        json={
            "CustomerAccount": "API-500",
            "OrganizationName": "Nowhere",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
        },
    )
    assert refused.status_code == 503, refused.text
    assert _fo_customer(running, "API-500") is None


def _counters(world: World) -> list[Any]:
    engine = make_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT * FROM dw_sync_counters WHERE map_name = :m ORDER BY 2")
            return list(conn.execute(query, {"m": ACCOUNTS}).all())
    finally:
        engine.dispose()


def test_an_asynchronous_map_leaves_the_write_to_the_worker(
    running: World, finops: httpx.Client, store: ControlStore
) -> None:
    with running.client() as admin:  # the map's setting over the REST API
        mode = admin.put(
            f"{running.url}/api/v1/environments/{running.fo_name}/maps/{ACCOUNTS}/mode",
            json={"synchronous": False},
        )
    assert (mode.status_code, mode.json()["synchronous"]) == (200, False)
    created = finops.post(
        f"{running.fo}/CustomersV3",
        json={
            "CustomerAccount": "API-600",
            "OrganizationName": "Later",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
        },
    )
    assert created.status_code == 201, created.text
    assert _dv_account(running, "API-600") is None  # not yet: no mapped write in the request
    worker_ticks(store, 3)
    assert _dv_account(running, "API-600")["name"] == "Later"  # type: ignore[index]
