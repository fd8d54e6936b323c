"""On PostgreSQL an idle worker is woken by NOTIFY, not by polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text

from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker
from dualwrite.identity.directory import get_user
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import linked_world


@pytest.mark.postgresql
def test_idle_worker_wakes_on_notify(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database("postgresql"), new_database("postgresql")
    with store.session() as session:
        link = linked_world(session, settings, fo_url, dv_url)
        seed_fo(fo_url, legal_entities=["USMF"], customers=3)
        admin = get_user(session, "admin@contoso.onmicrosoft.com")
        tablemaps.run_maps(session, admin, link, ["Customers V3 (accounts)"], initial_sync=True)
    worker = Worker(store, poll_seconds=60)  # polling alone would not come back within the test
    for _ in range(3):
        worker.tick()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    fo_engine, dv_engine = make_engine(fo_url), make_engine(dv_url)
    try:
        time.sleep(0.5)  # let the worker go idle and listen
        with fo_engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE customersv3 SET addresscity = 'Woken' WHERE customeraccount = 'US-000001'"
                )
            )
        deadline = time.monotonic() + 20
        city = None
        while time.monotonic() < deadline and city != "Woken":
            with dv_engine.connect() as conn:
                city = conn.scalar(
                    text("SELECT address1_city FROM account WHERE accountnumber = 'US-000001'")
                )
            time.sleep(0.05)
        assert city == "Woken"
    finally:
        stop.set()
        with fo_engine.begin() as conn:  # a last notification ends the worker's wait at once
            conn.execute(
                text(
                    "UPDATE customersv3 SET addresscity = 'Bye' WHERE customeraccount = 'US-000002'"
                )
            )
        thread.join(70)
        fo_engine.dispose()
        dv_engine.dispose()
