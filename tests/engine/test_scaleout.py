"""Several `dualwrite worker --stream` processes sharing the maps (issue 13), on PostgreSQL stores
and control store with NATS JetStream: plain SQL writers change both sides at random while a
worker is killed with SIGKILL, NATS's connections are cut, and a fourth worker joins;
afterwards both sides are equal under the maps, nothing lost or doubled, and the killed
worker's map directions moved to the others within the lease time."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from backends import require_nats, store_servers
from dualwrite.control.models import DualWriteLink, MapLease, TableMapState
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine import ownership
from dualwrite.engine.jetstream import JetStream, link_key
from dualwrite.engine.sync import Link, directions
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.link.links import link_maps
from dualwrite.settings import Settings
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.generator import seed_fo
from factories import linked_world
from netproxy import TcpProxy

ACCOUNTS = "Customers V3 (accounts)"
CUSTOMERS = 30


class Workers:
    """`dualwrite worker --stream` processes on one control store."""

    def __init__(self, environ: dict[str, str], stream: str, logs: Path) -> None:
        self.environ, self.stream, self.logs = environ, stream, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        program = str(Path(sys.executable).parent / "dualwrite")
        log = (self.logs / f"{name}.log").open("wb")
        self.running[name] = subprocess.Popen(  # noqa: S603 - our own command
            [program, "worker", "--stream", self.stream, "--name", name],
            env=self.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, name: str) -> None:
        self.running[name].send_signal(signal.SIGKILL)
        self.running.pop(name).wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def _owners(store: ControlStore) -> dict[str, int]:
    with store.reading() as session:
        owners: dict[str, int] = {}
        for worker in session.scalars(select(MapLease.worker_id)):
            owners[worker] = owners.get(worker, 0) + 1
        return owners


def _until(check: Callable[[], bool], seconds: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < seconds:  # bounded
        if check():
            return time.monotonic() - began
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def _snapshot(fo_engine: Engine, dv_engine: Engine) -> tuple[dict[str, object], dict[str, object]]:
    with fo_engine.connect() as conn:
        fo_rows = {
            r.customeraccount: (r.organizationname, Decimal(r.creditlimit))
            for r in conn.execute(
                select(fo.customersv3).where(
                    fo.customersv3.c.dataareaid == "USMF",
                    fo.customersv3.c.partytype == "Organization",  # what the accounts map syncs
                )
            )
        }
    with dv_engine.connect() as conn:
        rows = list(conn.execute(select(dv.account)))
        dv_rows = {r.accountnumber: (r.name, Decimal(r.creditlimit)) for r in rows}
        assert len(rows) == len(dv_rows), "an account was doubled"
    return fo_rows, dv_rows


def _writer(fo_url: str, dv_url: str, stop: threading.Event, counts: list[int]) -> None:
    """Plain SQL on both sides, the same records from both within milliseconds at times."""
    engines = {"fo": make_engine(fo_url), "dv": make_engine(dv_url)}
    rng = random.Random(13)
    try:
        while not stop.is_set() and counts[0] < 3000:  # bounded
            n = rng.randint(1, CUSTOMERS // 2)
            account = f"US-{n:06d}"
            value = counts[0] + 1
            side = rng.choice(("fo", "dv"))
            with engines[side].begin() as conn:
                if side == "fo":
                    conn.execute(
                        update(fo.customersv3)
                        .where(fo.customersv3.c.customeraccount == account)
                        .values(organizationname=f"F{value}", creditlimit=value)
                    )
                else:
                    conn.execute(
                        update(dv.account)
                        .where(dv.account.c.accountnumber == account)
                        .values(name=f"D{value}", creditlimit=value)
                    )
            counts[0] += 1
            time.sleep(rng.uniform(0.002, 0.02))
    finally:
        for engine in engines.values():
            engine.dispose()


@pytest.fixture
def world(
    new_database: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[ControlStore, dict[str, str], str, str]]:
    control_url = new_database("postgresql")
    fo_url, dv_url = new_database("postgresql"), new_database("postgresql")
    settings = Settings(
        home=tmp_path / "home", database_url=control_url, store_servers=store_servers()
    )
    store = ControlStore(control_url)
    store.upgrade()
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=CUSTOMERS)
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = session.scalars(select(DualWriteLink)).one()
        chain = [m.name for m in link_maps(link) if m.name == ACCOUNTS or m.name in _lookups(link)]
        tablemaps.run_maps(session, admin, link, chain, initial_sync=True)
        maps = {m.name: m for m in link_maps(link)}
    environ = {
        **os.environ,
        "DUALWRITE_HOME": str(tmp_path / "home"),
        "DUALWRITE_DATABASE_URL": control_url,
        "DUALWRITE_LOG_LEVEL": "info",
    }
    yield store, environ, fo_url, dv_url
    cleaner = JetStream(require_nats(), link_key(fo_url, dv_url), maps)
    cleaner.forget()
    cleaner.close()
    store.dispose()


def _where(store: ControlStore, fo_url: str, dv_url: str) -> str:
    """Where each map direction stands, for a failure's message: source log head, position
    stored in the target, batches waiting in JetStream, lease holder."""
    with store.reading() as session:
        link = session.scalars(select(DualWriteLink)).one()
        maps = link_maps(link)
        ids = {s.name: s.id for s in session.scalars(select(TableMapState))}
        holders = {
            (m.table_map_id, m.direction): m.worker_id for m in session.scalars(select(MapLease))
        }
    engine = Link(fo_url, dv_url, frozenset({"USMF"}), maps)
    stream = JetStream(require_nats(), link_key(fo_url, dv_url), {m.name: m for m in maps})
    lines = []
    try:
        for tmap in maps:
            for direction in directions(tmap):
                info = stream.waiting(tmap, direction)
                lines.append(
                    f"{tmap.name} {direction}: head {engine.head(direction)}, stored "
                    f"{engine.position(tmap, direction)}, stream {info}, "
                    f"lease {holders.get((ids.get(tmap.name), direction))}"
                )
    finally:
        stream.close()
        engine.close()
    return "\n".join(lines)


def _lookups(link: DualWriteLink) -> set[str]:
    maps = {m.name: m for m in link_maps(link)}
    wanted, todo = set(), [ACCOUNTS]
    while todo:
        for name in maps[todo.pop()].depends_on:
            if name not in wanted:
                wanted.add(name)
                todo.append(name)
    return wanted


@pytest.mark.postgresql
def test_workers_share_the_maps_fail_over_and_lose_nothing(
    world: tuple[ControlStore, dict[str, str], str, str], tmp_path: Path
) -> None:
    store, environ, fo_url, dv_url = world
    proxy = TcpProxy(require_nats())
    workers = Workers(environ, f"nats://127.0.0.1:{proxy.port}", tmp_path)
    stop_writing = threading.Event()
    written = [0]
    writer = threading.Thread(target=_writer, args=(fo_url, dv_url, stop_writing, written))
    try:
        for name in ("w1", "w2", "w3"):
            workers.start(name)

        def running() -> bool:
            with store.reading() as session:
                states = set(session.scalars(select(TableMapState.state)))
            return "Initializing" not in states and len(_owners(store)) == 3

        _until(running, 60, "the maps Running, their directions spread over three workers")
        directions = sum(_owners(store).values())
        writer.start()
        time.sleep(2)

        victim = max(_owners(store), key=lambda w: _owners(store).get(w, 0))
        workers.kill(victim)
        took = _until(lambda: victim not in _owners(store), 15, f"{victim}'s leases taken over")
        assert took < ownership.LEASE_SECONDS + 4  # expired, then taken at the next renewal
        _until(lambda: sum(_owners(store).values()) == directions, 10, "every direction owned")

        proxy.cut()  # NATS away: the workers keep their place, the changes wait in the source
        time.sleep(2)
        proxy.restore()

        workers.start("w4")
        _until(lambda: "w4" in _owners(store), 30, "the fourth worker given map directions")
        time.sleep(2)  # writes go on while the fourth worker takes its share
        stop_writing.set()
        writer.join(60)
        assert written[0] > 50
        assert not [n for n, p in workers.running.items() if p.poll() is not None], "a worker died"
        assert sum(_owners(store).values()) == directions
        fo_engine, dv_engine = make_engine(fo_url), make_engine(dv_url)
        try:

            def converged() -> bool:
                fo_rows, dv_rows = _snapshot(fo_engine, dv_engine)
                return fo_rows == dv_rows

            try:
                _until(converged, 90, "both sides equal under the maps")
            except AssertionError as error:
                raise AssertionError(f"{error}\n{_where(store, fo_url, dv_url)}") from None
            fo_rows, dv_rows = _snapshot(fo_engine, dv_engine)
            assert fo_rows == dv_rows and len(fo_rows) > CUSTOMERS // 3  # nothing lost
        finally:
            fo_engine.dispose()
            dv_engine.dispose()
    finally:
        stop_writing.set()
        workers.stop_all()
        proxy.close()
