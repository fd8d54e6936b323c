"""Live sync latency on PostgreSQL: commit in F&O → committed in Dataverse, at a steady write rate
(target p50 < 20 ms, p99 < 100 ms at 1,000 changes/s).

    python bench/live_latency.py [--rate 1000] [--seconds 10] [--writer process|thread]

The writer is another client of F&O, so by default it runs in a process of its own; as a thread
of the syncing process it shares the interpreter lock with the engine and falls short of the
rate (`--writer thread` shows that). The achieved rate is printed either way.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable

from _databases import fresh_postgres
from sqlalchemy import create_engine, text

from dualwrite.engine.sync import Link
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writer", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    fo_url, dv_url = fresh_postgres("dw_bench_lat_fo"), fresh_postgres("dw_bench_lat_dv")
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=500)
    maps = {m.name: m for m in validate(default_solutions(), fo.metadata, dataverse.metadata)}
    link = Link(fo_url, dv_url, frozenset({"USMF"}), list(maps.values()))
    accounts = maps["Customers V3 (accounts)"]
    for tmap in with_dependencies(list(maps.values()), [accounts.name]):
        link.initial_sync(tmap, "fo")

    running, count = _start_writer(args.writer, fo_url, args.rate, args.seconds)
    latencies: list[float] = []
    while running() or link.position(accounts, "fo_to_dv") != link.head("fo_to_dv"):
        result = link.sync_batch(accounts, "fo_to_dv")
        latencies.extend(result.latencies_ms)
        if not result.latencies_ms:
            time.sleep(0.001)
    counts = [count()]
    link.close()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    achieved = counts[0] / args.seconds
    print(
        f"postgresql live sync at {achieved:.0f} changes/s ({len(latencies)} changes): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (targets p50 < 20, p99 < 100)"
    )


if __name__ == "__main__":
    main()
