"""Capture overhead: source inserts per second with capture triggers vs without (target ≥ 0.6)."""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from _databases import fresh_postgres
from sqlalchemy import Engine, insert

from dualwrite.databases import make_engine
from dualwrite.engine.capture import install_capture, uninstall_capture
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo

ROWS, PER_TRANSACTION = 20_000, 100


def _rows(start: int) -> list[dict[str, object]]:
    return [
        {
            "dataareaid": "USMF",
            "customeraccount": f"B-{start + i:08d}",
            "organizationname": f"Bench customer {start + i}",
            "customergroupid": "10",
            "salescurrencycode": "USD",
            "creditlimit": Decimal("1000.50"),
            "addresscity": "Seattle",
        }
        for i in range(PER_TRANSACTION)
    ]


def _insert_rate(engine: Engine, start: int) -> float:
    began = time.perf_counter()
    for offset in range(0, ROWS, PER_TRANSACTION):
        with engine.begin() as conn:
            conn.execute(insert(fo.customersv3), _rows(start + offset))
    return ROWS / (time.perf_counter() - began)


def measure(name: str, url: str) -> None:
    prepare_data_store(url, Side.FO)
    seed_fo(url, legal_entities=["USMF"])
    engine = make_engine(url)
    try:
        _insert_rate(engine, 10_000_000)  # warm-up: caches, WAL, plans
        without = _insert_rate(engine, 0)
        install_capture(engine, [fo.customersv3])
        with_capture = _insert_rate(engine, ROWS)
        uninstall_capture(engine, [fo.customersv3])
    finally:
        engine.dispose()
    print(
        f"{name:<10} without capture {without:9.0f} rows/s, with capture {with_capture:9.0f} "
        f"rows/s, ratio {with_capture / without:.2f} (target >= 0.60)"
    )


def _postgres_database() -> str | None:
    try:
        return fresh_postgres("dw_bench_capture")
    except Exception as exc:  # the benchmark skips an absent server
        print(f"postgresql skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        return None


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}")
    if url := _postgres_database():
        measure("postgresql", url)


if __name__ == "__main__":
    main()
