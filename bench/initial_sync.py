"""Initial sync of customers → accounts against a raw bulk insert of the same rows into the same
target (target ratio ≥ 0.7), and peak memory at two sizes (should be flat).

    python bench/initial_sync.py [--rows N] [--small N]   (defaults: 1,000,000 and 100,000)

The baselines are what the target database itself must do for the same result, with none of
the engine's work (reading the source, transforming, resolving lookups, bookkeeping). Each writes
into its own Dataverse store prepared exactly like the sync's target: same schema, the same
reference records (companies, customer groups, currencies, payment terms, synced the same way),
the capture triggers installed. Their rows carry every column the sync writes (18, with 4
foreign keys; checked against the map), built in memory per batch of the sync's batch size,
written one transaction per batch and marked as the engine's own writes as the sync's are (the
triggers check the mark, then skip capture). So the ratios compare like with like: the same rows,
columns, constraints, triggers and commits.

- raw bulk insert (the target ratio): SQLAlchemy's plain `conn.execute(insert(account), [dicts])`.
- driver-level (stricter, for information): `engine.bulk.bulk_insert`, i.e. COPY on PostgreSQL
  and one driver executemany on SQLite, from ready tuples: about the fastest a batch can go in.

Each measurement runs in its own process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from _databases import fresh_postgres
from sqlalchemy import insert, select

BATCH = 5000  # the initial sync's batch (as the worker runs it); the baseline commits as often
# Every column the sync writes into account.
ACCOUNT_COLUMNS = (
    "accountid",
    "accountnumber",
    "msdyn_company",
    "name",
    "msdyn_customergroupid",
    "transactioncurrencyid",
    "msdyn_paymentterm",
    "creditlimit",
    "msdyn_creditlimitisunlimited",
    "creditonhold",
    "address1_line1",
    "address1_city",
    "address1_postalcode",
    "address1_country",
    "emailaddress1",
    "telephone1",
    "createdon",
    "modifiedon",
)


def child(backend: str, rows: int, folder: str) -> None:
    from dualwrite.engine.plan import plan_for
    from dualwrite.engine.sync import Link
    from dualwrite.maps.defaults import default_solutions
    from dualwrite.maps.validate import validate, with_dependencies
    from dualwrite.stores import dataverse, fo
    from dualwrite.stores.datastore import Side, prepare_data_store
    from dualwrite.stores.generator import seed_fo

    fo_url, dv_url, core_url, driver_url = (
        _database(backend, folder, name) for name in ("fo", "dv", "core", "driver")
    )
    prepare_data_store(fo_url, Side.FO)
    seed_fo(fo_url, legal_entities=["USMF"], customers=rows, batch_size=10_000)
    maps = {m.name: m for m in validate(default_solutions(), fo.metadata, dataverse.metadata)}
    accounts = maps["Customers V3 (accounts)"]
    written = {*plan_for(accounts, "fo_to_dv").columns, "accountid", "createdon", "modifiedon"}
    assert set(ACCOUNT_COLUMNS) == written, "the baseline must write what the sync writes"  # noqa: S101
    links = []
    for url in (dv_url, core_url, driver_url):  # targets alike: schema, reference data, capture
        prepare_data_store(url, Side.DATAVERSE)
        link = Link(fo_url, url, frozenset({"USMF"}), list(maps.values()), initial_batch_size=BATCH)
        for tmap in with_dependencies(list(maps.values()), [accounts.name])[:-1]:
            link.initial_sync(tmap, "fo")
        link.prepare(accounts)
        links.append(link)
    ours_link = links[0]
    for link in links[1:]:
        link.close()

    core = _baseline(core_url, rows, "core")
    driver = _baseline(driver_url, rows, "driver")
    started = time.perf_counter()
    copied = ours_link.initial_sync(accounts, "fo")
    ours = time.perf_counter() - started
    ours_link.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"rows": copied, "core": core, "driver": driver, "ours": ours, "peak_kib": peak}
    print(json.dumps(result))


def _baseline(url: str, rows: int, method: str) -> float:
    """Seconds to bulk insert `rows` accounts into `url`'s account table, with SQLAlchemy
    (`core`) or at the driver (`driver`)."""
    from dualwrite.databases import make_engine
    from dualwrite.engine.bulk import bulk_insert
    from dualwrite.engine.capture import engine_origin
    from dualwrite.stores import dataverse as dv

    engine = make_engine(url)
    with engine.connect() as conn:
        company = conn.scalar(select(dv.cdm_company.c.cdm_companyid))
        groups = list(conn.scalars(select(dv.msdyn_customergroup.c.msdyn_customergroupid)))
        currency = conn.scalar(
            select(dv.transactioncurrency.c.transactioncurrencyid).where(
                dv.transactioncurrency.c.isocurrencycode == "USD"
            )
        )
        terms = list(conn.scalars(select(dv.msdyn_paymentterm.c.msdyn_paymenttermid)))
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, rows, BATCH):
        batch = [
            (
                str(uuid.uuid4()),
                f"US-{i:06d}",
                company,
                f"Northwind Traders {i}",
                groups[i % len(groups)],
                currency,
                terms[i % len(terms)],
                Decimal(i % 1000 * 500),
                i % 20 == 0,
                i % 33 == 0,
                f"{i % 9999 + 1} Harbor Street",
                "Seattle",
                f"{10000 + i % 90000}",
                "USA",
                f"info{i}@northwind.example",
                f"+1 206 555 {i % 10000:04d}",
                now,
                now,
            )
            for i in range(start, min(start + BATCH, rows))
        ]
        with engine.begin() as conn, engine_origin(conn):
            if method == "core":
                conn.execute(
                    insert(dv.account), [dict(zip(ACCOUNT_COLUMNS, r, strict=True)) for r in batch]
                )
            else:
                bulk_insert(conn, dv.account, ACCOUNT_COLUMNS, batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _database(backend: str, folder: str, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(folder) / f'{name}.db'}"
    return fresh_postgres(f"dw_bench_{name}")


def run(backend: str, rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, __file__, "--child", backend, str(rows), folder],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        try:
            large = run(backend, args.rows)
        except subprocess.CalledProcessError as exc:
            print(f"{backend}: skipped ({exc.stderr.strip().splitlines()[-1]})")
            continue
        small = run(backend, args.small)
        n = large["rows"]
        print(
            f"{backend:<10} {int(n):>9} accounts: initial sync {n / large['ours']:8.0f} rows/s; "
            f"raw bulk insert {n / large['core']:8.0f} rows/s, "
            f"ratio {large['core'] / large['ours']:.2f} (target >= 0.70); "
            f"driver-level {n / large['driver']:8.0f} rows/s, "
            f"ratio {large['driver'] / large['ours']:.2f}"
        )
        print(
            f"{backend:<10} peak RSS {small['peak_kib'] / 1024:.0f} MiB at {args.small:,} rows, "
            f"{large['peak_kib'] / 1024:.0f} MiB at {args.rows:,} rows "
            f"(ratio {large['peak_kib'] / small['peak_kib']:.2f}, flat = 1.0)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
