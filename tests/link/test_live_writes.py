"""Which maps take part in synchronous dual-write for an environment's writes, and the unit of
work the environment APIs run (link/live_writes.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import insert, select, text

from dualwrite.control.models import FoEnvironment
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity import directory
from dualwrite.link import live_writes, tablemaps
from dualwrite.settings import Settings
from dualwrite.stores import fo
from dualwrite.stores.generator import seed_fo
from factories import linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
GROUPS = "Customer groups (msdyn_customergroups)"


def _running(store: ControlStore, settings: Settings, fo_url: str, dv_url: str) -> None:
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = the_link(session)
        tablemaps.run_maps(session, admin, link, [ACCOUNTS], initial_sync=True)
    worker_ticks(store)


def test_running_maps_apply_an_api_write_in_its_unit_of_work(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database("sqlite"), new_database("sqlite")
    _running(store, settings, fo_url, dv_url)
    with store.session() as session:
        env = session.scalars(select(FoEnvironment)).one()
        live = live_writes.live_sync_for(session, env)
        dataverse = the_link(session).platform_environment
        back = live_writes.live_sync_for(session, dataverse)
        assert back is not None and back.direction == "dv_to_fo"
    assert live is not None and live.direction == "fo_to_dv"
    assert [m.name for m in live.maps][-1] == ACCOUNTS and GROUPS in [m.name for m in live.maps]
    source = make_engine(fo_url)
    with source.connect() as conn:
        trans = conn.begin()
        since = live.begin(conn)
        row = {
            "dataareaid": "USMF",
            "customeraccount": "API-1",
            "organizationname": "Via API",
            "customergroupid": "10",
            "salescurrencycode": "USD",
        }
        conn.execute(insert(fo.customersv3).values(row))
        mapped = live.apply(conn, since, time.monotonic())
        trans.commit()
    mapped.commit()
    source.dispose()
    dv = make_engine(dv_url)
    with dv.connect() as conn:
        assert (
            conn.scalar(text("SELECT name FROM account WHERE accountnumber = 'API-1'")) == "Via API"
        )
    dv.dispose()

    with store.session() as session:  # a paused map queues instead
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        tablemaps.pause_maps(session, admin, the_link(session), [ACCOUNTS])
    with store.session() as session:
        live = live_writes.live_sync_for(session, session.scalars(select(FoEnvironment)).one())
        assert live is None or ACCOUNTS not in [m.name for m in live.maps]
