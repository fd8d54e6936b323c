"""`dualwrite worker` killed with SIGKILL mid-stream resumes with nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text

from dualwrite.control.models import DualWriteLink
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity.directory import get_user
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.generator import seed_fo
from factories import linked_world

ACCOUNTS = "Customers V3 (accounts)"


def _start_worker(home: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "dualwrite.cli", "--home", str(home), "worker"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _wait(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _running(store: ControlStore) -> bool:
    with store.session() as session:
        link = session.scalars(select(DualWriteLink)).one()
        return all(m.state == "Running" for m in link.table_maps if m.state != "Not running")


def test_killed_worker_resumes_exactly_once(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        link = linked_world(session, settings, fo_url, dv_url)
        seed_fo(fo_url, legal_entities=["USMF", "DEMF"], customers=40)
        tablemaps.run_maps(
            session,
            get_user(session, "admin@contoso.onmicrosoft.com"),
            link,
            [ACCOUNTS],
            initial_sync=True,
        )
    fo_engine, dv_engine = make_engine(fo_url), make_engine(dv_url)
    worker = _start_worker(settings.home)
    try:
        _wait(lambda: _running(store))
        for i in range(1, 201):  # one transaction per change, like users typing
            with fo_engine.begin() as conn:
                account = f"US-{(i % 20) + 1:06d}"
                conn.execute(
                    text(
                        "UPDATE customersv3 SET creditlimit = :v, addresscity = :c WHERE customeraccount = :a AND dataareaid = 'USMF'"
                    ),
                    {"v": i, "c": f"city {i}", "a": account},
                )
                if i % 10 == 0:
                    conn.execute(
                        fo.customersv3.insert(),
                        {
                            "dataareaid": "USMF",
                            "customeraccount": f"NEW-{i:04d}",
                            "organizationname": f"New {i}",
                            "customergroupid": "10",
                            "salescurrencycode": "USD",
                        },
                    )
            if i == 80:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(10)
            if i == 140:
                worker = _start_worker(settings.home)

        def converged() -> bool:
            with fo_engine.connect() as f, dv_engine.connect() as d:
                source = {
                    r.customeraccount: (Decimal(r.creditlimit), r.addresscity)
                    for r in f.execute(
                        select(fo.customersv3).where(fo.customersv3.c.dataareaid == "USMF")
                    )
                }
                target = [
                    (r.accountnumber, Decimal(r.creditlimit), r.address1_city)
                    for r in d.execute(select(dv.account))
                ]
            return len(target) == len(source) and all(
                source.get(a) == (c, city) for a, c, city in target
            )

        _wait(converged)
        with dv_engine.connect() as conn:
            numbers = [r[0] for r in conn.execute(select(dv.account.c.accountnumber))]
            assert len(numbers) == len(set(numbers)) == 40  # 20 seeded in USMF + 20 new
            assert conn.execute(text("SELECT count(*) FROM dw_sync_errors")).scalar() == 0
    finally:
        worker.kill()
        worker.wait(10)
        fo_engine.dispose()
        dv_engine.dispose()
