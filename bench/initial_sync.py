"""Initial sync of customers → accounts against a raw bulk insert of the same rows into the same
kind of target (target ratio ≥ 0.7), and peak memory at two sizes (should be flat).

    python bench/initial_sync.py [--rows N] [--small N]   (defaults: 1,000,000 and 100,000)
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
from sqlalchemy import insert


def child(backend: str, rows: int, folder: str) -> None:
    from dualwrite.databases import make_engine
    from dualwrite.engine.sync import Link
    from dualwrite.maps.defaults import default_solutions
    from dualwrite.maps.validate import validate, with_dependencies
    from dualwrite.stores import dataverse, fo
    from dualwrite.stores.datastore import Side, prepare_data_store
    from dualwrite.stores.generator import seed_fo

    fo_url, dv_url, raw_url = (_database(backend, folder, name) for name in ("fo", "dv", "raw"))
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    prepare_data_store(raw_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=rows, batch_size=10_000)
    maps = {m.name: m for m in validate(default_solutions(), fo.metadata, dataverse.metadata)}
    link = Link(fo_url, dv_url, frozenset({"USMF"}), list(maps.values()), batch_size=5000)
    for tmap in with_dependencies(list(maps.values()), ["Customers V3 (accounts)"])[:-1]:
        link.initial_sync(tmap, "fo")

    # Baseline: the same number of account rows, built in memory per batch, bulk inserted.
    raw = make_engine(raw_url)
    now = datetime.now(UTC)
    company = str(uuid.uuid4())
    with raw.begin() as conn:
        conn.execute(
            insert(dataverse.cdm_company),
            {"cdm_companyid": company, "cdm_companycode": "USMF", "cdm_name": "Contoso"},
        )
    started = time.perf_counter()
    for start in range(0, rows, 5000):
        batch = [
            {
                "accountid": str(uuid.uuid4()),
                "accountnumber": f"US-{i:07d}",
                "msdyn_company": company,
                "name": f"Customer {i}",
                "creditlimit": Decimal("1000.50"),
                "address1_city": "Seattle",
                "createdon": now,
                "modifiedon": now,
            }
            for i in range(start, min(start + 5000, rows))
        ]
        with raw.begin() as conn:
            conn.execute(insert(dataverse.account), batch)
    baseline = time.perf_counter() - started
    raw.dispose()

    started = time.perf_counter()
    copied = link.initial_sync(maps["Customers V3 (accounts)"], "fo")
    ours = time.perf_counter() - started
    link.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": copied, "baseline": baseline, "ours": ours, "peak_kib": peak}))


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
        ratio = large["baseline"] / large["ours"]
        ours, raw = large["rows"] / large["ours"], large["rows"] / large["baseline"]
        print(
            f"{backend:<10} {int(large['rows']):>9} accounts: initial sync {ours:8.0f} rows/s, "
            f"raw bulk insert {raw:8.0f} rows/s, ratio {ratio:.2f} (target >= 0.70)"
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
