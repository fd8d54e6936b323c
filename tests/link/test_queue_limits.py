"""A paused map's queue limits: past them, application writes are refused with DW5007 until the
map is resumed; the engine's own writes and the queued changes are unaffected."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dualwrite.control.models import DualWriteLink
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker
from dualwrite.errors import DualWriteError
from dualwrite.identity.directory import get_user
from dualwrite.link import overview, tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import linked_world

ACCOUNTS = "Customers V3 (accounts)"
UPDATE = "UPDATE customersv3 SET addresscity = :c WHERE customeraccount = 'US-000001' AND dataareaid = 'USMF'"


def test_writes_are_refused_past_the_limit_until_resume(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        link = linked_world(session, settings, fo_url, dv_url)
        seed_fo(fo_url, legal_entities=["USMF"], customers=4)
        admin = get_user(session, "admin@contoso.onmicrosoft.com")
        tablemaps.run_maps(session, admin, link, [ACCOUNTS], initial_sync=True)
    worker = Worker(store)
    fo_engine = make_engine(fo_url)
    try:
        for _ in range(4):
            worker.tick()
        with store.session() as session:
            admin = get_user(session, "admin@contoso.onmicrosoft.com")
            link = session.scalars(select(DualWriteLink)).one()
            with pytest.raises(DualWriteError) as err:
                tablemaps.set_queue_limits(session, admin, link, ACCOUNTS, max_bytes=0)
            assert err.value.code == "DW1000"
            tablemaps.set_queue_limits(session, admin, link, ACCOUNTS, max_bytes=1)
            tablemaps.pause_maps(session, admin, link, [ACCOUNTS])
        with fo_engine.begin() as conn:
            conn.execute(text(UPDATE), {"c": "queued"})  # under the limit: accepted, queued
        worker.tick()  # the queue is now over 1 byte: writes are refused
        with pytest.raises(DBAPIError) as refused, fo_engine.begin() as conn:
            conn.execute(text(UPDATE), {"c": "refused"})
        assert "DW5007" in str(refused.value)
        with store.session() as session:
            link = session.scalars(select(DualWriteLink)).one()
            (row,) = [m for m in overview.describe_maps(link) if m.name == ACCOUNTS]
            assert row.state == "Paused"
            assert row.queued["fo_to_dv"] == 1
            assert row.last_error and "Writes refused" in row.last_error
            tablemaps.resume_maps(
                session, get_user(session, "admin@contoso.onmicrosoft.com"), link, [ACCOUNTS]
            )
        with fo_engine.begin() as conn:
            conn.execute(text(UPDATE), {"c": "after resume"})
        for _ in range(3):
            worker.tick()
        dv_engine = make_engine(dv_url)
        with dv_engine.connect() as conn:
            city = conn.execute(
                text("SELECT address1_city FROM account WHERE accountnumber = 'US-000001'")
            ).scalar()
        dv_engine.dispose()
        assert city == "after resume"
    finally:
        worker.close()
        fo_engine.dispose()
