"""Live sync latency on PostgreSQL: commit in F&O → committed in Dataverse, at a steady write rate
(target p50 < 20 ms, p99 < 100 ms at 1,000 changes/s).

    python bench/live_latency.py [--rate 1000] [--seconds 10] [--writer process|thread]
                                 [--through link|worker|worker-all|all]

Measured three ways (all by default): the engine loop alone (one map's batches back to back), and
through the sync worker as deployed (SQLite control store, woken by NOTIFY) running the accounts
map with the maps it looks up, or every default map — the worker also pays for its look at what
to run and the other maps' turns (Customers V3 (contacts) reads every customer change as well).

The writer is another client of F&O, so by default it runs in a process of its own; as a thread
of the syncing process it shares the interpreter lock with the engine and falls short of the
rate (`--writer thread` shows that). The achieved rate is printed either way.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _databases import fresh_postgres
from _world import ADMIN, bench_settings, linked_world
from sqlalchemy import create_engine, select, text

from dualwrite.control.models import DualWriteLink, TableMapState
from dualwrite.control.store import ControlStore
from dualwrite.engine.sync import BatchResult, Link
from dualwrite.engine.worker import Worker
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.validate import validate, with_dependencies
from dualwrite.stores import dataverse, fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo


def writer(url: str, rate: int, seconds: float, stop: threading.Event) -> int:
    """One small transaction per change, paced to `rate` per second."""
    engine = create_engine(url)
    written = 0
    started = time.perf_counter()
    with engine.connect() as conn:
        while not stop.is_set() and time.perf_counter() - started < seconds:
            due = started + written / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            with conn.begin():
                conn.execute(
                    text("UPDATE customersv3 SET creditlimit = :v WHERE customeraccount = :a"),
                    {"v": written, "a": f"US-{written % 500 + 1:06d}"},
                )
            written += 1
    engine.dispose()
    return written


def _write_to(url: str, rate: int, seconds: float, out: multiprocessing.Queue[int]) -> None:
    out.put(writer(url, rate, seconds, threading.Event()))


def _start_writer(
    kind: str, url: str, rate: int, seconds: float
) -> tuple[Callable[[], bool], Callable[[], int]]:
    """Start the writer; returns (is it still writing?, how many changes it wrote)."""
    if kind == "thread":
        counts: list[int] = []
        thread = threading.Thread(
            target=lambda: counts.append(writer(url, rate, seconds, threading.Event()))
        )
        thread.start()

        def written() -> int:
            thread.join()
            return counts[0]

        return thread.is_alive, written
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited sockets
    out: multiprocessing.Queue[int] = spawn.Queue()
    process = spawn.Process(target=_write_to, args=(url, rate, seconds, out))
    process.start()

    def total() -> int:
        value = out.get()
        process.join()
        return value

    return process.is_alive, total


ACCOUNTS = "Customers V3 (accounts)"


def through_link(rate: int, seconds: float, writer_kind: str) -> tuple[list[float], int]:
    """The engine alone: one map's batches in a loop, as fast as they come."""
    fo_url, dv_url = fresh_postgres("dw_bench_lat_fo"), fresh_postgres("dw_bench_lat_dv")
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=500)
    maps = {m.name: m for m in validate(default_solutions(), fo.metadata, dataverse.metadata)}
    link = Link(fo_url, dv_url, frozenset({"USMF"}), list(maps.values()))
    accounts = maps[ACCOUNTS]
    for tmap in with_dependencies(list(maps.values()), [accounts.name]):
        link.initial_sync(tmap, "fo")
    running, count = _start_writer(writer_kind, fo_url, rate, seconds)
    latencies: list[float] = []
    while running() or link.position(accounts, "fo_to_dv") != link.head("fo_to_dv"):
        result = link.sync_batch(accounts, "fo_to_dv")
        latencies.extend(result.latencies_ms)
        if not result.latencies_ms:
            time.sleep(0.001)
    written = count()
    link.close()
    return latencies, written


def through_worker(
    rate: int, seconds: float, writer_kind: str, every_map: bool = False
) -> tuple[list[float], int]:
    """What a user sees: `dualwrite worker` on a link made the seeds' way (SQLite control store,
    the default), woken by NOTIFY, running Customers V3 (accounts) with the maps it looks up, or
    `every_map` of the default solutions (then Customers V3 (contacts) reads every customer
    change too, and each pass takes turns over nine maps)."""
    fo_url, dv_url = fresh_postgres("dw_bench_lat_fo"), fresh_postgres("dw_bench_lat_dv")
    with tempfile.TemporaryDirectory(prefix="dw-bench-") as home:
        settings = bench_settings(Path(home) / "home")
        store = ControlStore(settings.control_url)
        store.upgrade()
        linked_world(store, settings, fo_url, dv_url)
        seed_fo(fo_url, legal_entities=["USMF"], customers=500)
        with store.session() as session:
            admin = directory.get_user(session, ADMIN)
            link = session.scalars(select(DualWriteLink)).one()
            names = [m.name for m in link.table_maps] if every_map else [ACCOUNTS]
            tablemaps.run_maps(session, admin, link, names, initial_sync=True)
        latencies: list[float] = []

        def observe(name: str, direction: str, result: BatchResult) -> None:
            if name == ACCOUNTS and direction == "fo_to_dv":
                latencies.extend(result.latencies_ms)

        worker = Worker(store, on_batch=observe)
        for _ in range(100):  # initial syncs: every map Running before the clock starts
            worker.tick()
            with store.session() as session:
                states = set(session.scalars(select(TableMapState.state)))
            if "Initializing" not in states:
                break
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,))
        thread.start()
        running, count = _start_writer(writer_kind, fo_url, rate, seconds)
        while running():
            time.sleep(0.05)
        written = count()
        deadline = time.monotonic() + 30
        while len(latencies) < written and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join()
        store.dispose()
    return latencies, written


WAYS: dict[str, tuple[Callable[[int, float, str], tuple[list[float], int]], str]] = {
    "link": (through_link, "engine loop"),
    "worker": (through_worker, "sync worker, accounts and its lookups"),
    "worker-all": (
        lambda rate, seconds, kind: through_worker(rate, seconds, kind, every_map=True),
        "sync worker, every default map",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writer", choices=("process", "thread"), default="process")
    parser.add_argument("--through", choices=(*WAYS, "all"), default="all")
    args = parser.parse_args()
    for name in WAYS if args.through == "all" else (args.through,):
        latencies, written = WAYS[name][0](args.rate, args.seconds, args.writer)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        achieved = written / args.seconds
        label = WAYS[name][1]
        print(
            f"postgresql live sync, {label}, at {achieved:.0f} changes/s ({len(latencies)} "
            f"changes): p50 {p50:.1f} ms, p99 {p99:.1f} ms (targets p50 < 20, p99 < 100)",
            flush=True,
        )


if __name__ == "__main__":
    main()
