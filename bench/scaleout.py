"""Scale-out on PostgreSQL and NATS JetStream (issue 13), three measurements in one run:

1. latency: live sync of the accounts map at a steady write rate (default 1,000 changes/s),
   commit in F&O → committed in Dataverse, with the batches handed over in-process (the
   default) and through JetStream, in interleaved rounds (target: JetStream p99 < 100 ms);
2. saturation: 6 links, each with a backlog of customer changes written as fast as the database
   takes them, drained by 1, 2 and 3 `dualwrite worker --stream` processes sharing the maps
   (interleaved rounds); changes/s from the first write to the last change applied, and the
   ratio to one worker (target ≥ 1.7x from 1 to 2 workers where cores allow);
3. failover: 3 workers, the one with the most leases killed with SIGKILL, seconds until the
   others hold every map direction again (target < 5 s).

    python bench/scaleout.py [--rate 1000] [--seconds 5] [--rounds 3] [--changes 6000]

Needs the local PostgreSQL and NATS (127.0.0.1:4222). Prints the machine's core count: on
two cores, workers, PostgreSQL and the writers share them.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _databases import fresh_postgres
from _world import ADMIN, bench_settings, linked_world
from live_latency import ACCOUNTS, _start_writer
from sqlalchemy import create_engine, func, select, text

from dualwrite.control.models import DualWriteLink, MapLease, TableMapState
from dualwrite.control.store import ControlStore
from dualwrite.engine.jetstream import JetStream, link_key
from dualwrite.engine.stream import Stream
from dualwrite.engine.sync import Link
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.link.links import link_maps
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.validate import validate, with_dependencies
from dualwrite.stores import dataverse, fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo

NATS = os.environ.get("DUALWRITE_TEST_NATS_URL", "nats://127.0.0.1:4222")
LINKS = 6
CUSTOMERS = 500


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}"


# --- 1. latency: in-process vs JetStream --------------------------------------------------------


def latency_round(rate: int, seconds: float, jetstream: bool) -> list[float]:
    fo_url, dv_url = fresh_postgres("dw_bench_so_fo"), fresh_postgres("dw_bench_so_dv")
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=CUSTOMERS)
    maps = {m.name: m for m in validate(default_solutions(), fo.metadata, dataverse.metadata)}
    stream: Stream | None = JetStream(NATS, link_key(fo_url, dv_url), maps) if jetstream else None
    link = Link(fo_url, dv_url, frozenset({"USMF"}), list(maps.values()), stream=stream)
    accounts = maps[ACCOUNTS]
    for tmap in with_dependencies(list(maps.values()), [accounts.name]):
        link.initial_sync(tmap, "fo")
    link.sync_batch(accounts, "fo_to_dv")  # positions known, JetStream consumer made
    running, count = _start_writer("process", fo_url, rate, seconds)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds + 60
    while time.monotonic() < deadline and (
        running() or link.position(accounts, "fo_to_dv") != link.head("fo_to_dv")
    ):
        result = link.sync_batch(accounts, "fo_to_dv")
        latencies.extend(result.latencies_ms)
        if not result.latencies_ms:
            time.sleep(0.001)
    count()
    if isinstance(stream, JetStream):
        stream.forget()
    link.close()
    return latencies


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def latency(rate: int, seconds: float, rounds: int) -> None:
    figures: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(rounds):
        for jetstream in (False, True):
            figures[jetstream].append(_percentiles(latency_round(rate, seconds, jetstream)))
    for jetstream, label in ((False, "in-process"), (True, "JetStream")):
        p50s = [p for p, _ in figures[jetstream]]
        p99s = [p for _, p in figures[jetstream]]
        print(
            f"live sync at {rate} changes/s, {label}: p50 {_spread(p50s)} ms, "
            f"p99 {_spread(p99s)} ms",
            flush=True,
        )
    ratio50 = [j[0] / i[0] for i, j in zip(figures[False], figures[True], strict=True)]
    ratio99 = [j[1] / i[1] for i, j in zip(figures[False], figures[True], strict=True)]
    print(
        f"  JetStream / in-process: p50 {min(ratio50):.2f}-{max(ratio50):.2f}, "
        f"p99 {min(ratio99):.2f}-{max(ratio99):.2f} (target: JetStream p99 < 100 ms)",
        flush=True,
    )


# --- 2 and 3: worker processes on six links -----------------------------------------------------


class Installation:
    """A PostgreSQL control store with six links, the accounts map and its lookups Running."""

    def __init__(self, home: Path) -> None:
        control_url = fresh_postgres("dw_bench_so_control")
        self.settings = bench_settings(home).model_copy(update={"database_url": control_url})
        self.store = ControlStore(control_url)
        self.store.upgrade()
        self.fo_urls: list[str] = []
        for n in range(LINKS):
            fo_url = fresh_postgres(f"dw_bench_so_fo{n}")
            dv_url = fresh_postgres(f"dw_bench_so_dv{n}")
            linked_world(self.store, self.settings, fo_url, dv_url, name=f"bench-{n}")
            seed_fo(fo_url, legal_entities=["USMF"], customers=CUSTOMERS)
            self.fo_urls.append(fo_url)
        with self.store.session() as session:
            admin = directory.get_user(session, ADMIN)
            for link in session.scalars(select(DualWriteLink)):
                tablemaps.run_maps(session, admin, link, [ACCOUNTS], initial_sync=True)
            self.links = [
                (
                    Link(
                        link.fo_environment.data_store_url,
                        link.platform_environment.dataverse_url or "",
                        frozenset(link.legal_entity_ids),
                        link_maps(link),
                    ),
                    link_key(
                        link.fo_environment.data_store_url,
                        link.platform_environment.dataverse_url or "",
                    ),
                )
                for link in session.scalars(select(DualWriteLink).order_by(DualWriteLink.id))
            ]
        self.environ = {
            **os.environ,
            "DUALWRITE_HOME": str(home),
            "DUALWRITE_DATABASE_URL": control_url,
            "DUALWRITE_LOG_LEVEL": "warning",
        }
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        program = str(Path(sys.executable).parent / "dualwrite")
        self.running[name] = subprocess.Popen(
            [program, "worker", "--stream", NATS, "--name", name],
            env=self.environ,
            stdout=subprocess.DEVNULL,
        )

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)  # hands the leases back at once
        for process in self.running.values():
            process.wait(30)
        self.running.clear()

    def kill(self, name: str) -> None:
        self.running[name].send_signal(signal.SIGKILL)
        self.running.pop(name).wait(10)

    def owners(self) -> dict[str, int]:
        with self.store.reading() as session:
            query = select(MapLease.worker_id, func.count()).group_by(MapLease.worker_id)
            return {worker: int(count) for worker, count in session.execute(query)}

    def all_running(self) -> bool:
        with self.store.reading() as session:
            states = set(session.scalars(select(TableMapState.state)))
        return "Initializing" not in states and "Running" in states

    def caught_up(self) -> bool:
        for link, _key in self.links:
            accounts = link.by_name[ACCOUNTS]
            if link.position(accounts, "fo_to_dv") != link.head("fo_to_dv"):
                return False
        return True

    def backlog(self, changes: int) -> None:
        """`changes` customer changes per link, in transactions of one statement each."""
        for url in self.fo_urls:
            engine = create_engine(url)
            with engine.connect() as conn:
                for _ in range(max(1, changes // CUSTOMERS)):
                    with conn.begin():
                        conn.execute(text("UPDATE customersv3 SET creditlimit = creditlimit + 1"))
            engine.dispose()

    def close(self) -> None:
        if self.running:
            self.stop_all()
        for link, key in self.links:
            stream = JetStream(NATS, key, link.by_name)
            stream.forget()
            stream.close()
            link.close()
        self.store.dispose()


def _until(check: Callable[[], bool], seconds: float) -> float:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > seconds:
            raise SystemExit(f"not within {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - began


@contextmanager
def installation() -> Iterator[Installation]:
    with tempfile.TemporaryDirectory(prefix="dw-bench-") as home:
        world = Installation(Path(home) / "home")
        try:
            yield world
        finally:
            world.close()


def saturation(world: Installation, rounds: int, changes: int) -> None:
    rates: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for _ in range(rounds):
        for workers in (1, 2, 3):
            for n in range(workers):
                world.start(f"w{n + 1}")
            _until(world.all_running, 120)
            _until(lambda w=workers: len(world.owners()) == w, 30)  # type: ignore[misc]
            _until(world.caught_up, 60)
            began = time.monotonic()
            world.backlog(changes)
            _until(world.caught_up, 600)
            rates[workers].append(changes * LINKS / (time.monotonic() - began))
            world.stop_all()
    print(f"saturation, {LINKS} links, {changes} changes each, {os.cpu_count()} cores:", flush=True)
    for workers, values in rates.items():
        ratios = [v / one for v, one in zip(values, rates[1], strict=True)]
        print(
            f"  {workers} worker(s): {min(values):,.0f}-{max(values):,.0f} changes/s "
            f"({min(ratios):.2f}-{max(ratios):.2f}x one worker)",
            flush=True,
        )


def failover(world: Installation, rounds: int) -> None:
    took = []
    for n in (1, 2, 3):
        world.start(f"w{n}")
    _until(world.all_running, 120)
    _until(lambda: len(world.owners()) == 3, 30)
    for _ in range(rounds):
        total = sum(world.owners().values())
        owners = world.owners()
        victim = max(owners, key=lambda w: owners[w])
        world.kill(victim)
        took.append(
            _until(
                lambda v=victim, t=total: (  # type: ignore[misc]
                    v not in world.owners() and sum(world.owners().values()) == t
                ),
                30,
            )
        )
        world.start(victim)  # back to three for the next round
        _until(lambda v=victim: v in world.owners(), 30)  # type: ignore[misc]
    world.stop_all()
    print(
        f"failover after kill -9 (3 workers): every map direction held again after "
        f"{_spread(took)} s (target < 5 s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changes", type=int, default=6000)
    parser.add_argument(
        "--only", choices=("latency", "saturation", "failover"), default=None, help="one part"
    )
    args = parser.parse_args()
    if args.only in (None, "latency"):
        latency(args.rate, args.seconds, args.rounds)
    if args.only == "latency":
        return
    with installation() as world:
        if args.only in (None, "saturation"):
            saturation(world, max(1, args.rounds - 1), args.changes)
        if args.only in (None, "failover"):
            failover(world, args.rounds)


if __name__ == "__main__":
    main()
