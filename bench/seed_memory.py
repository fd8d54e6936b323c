"""Peak memory and speed of seeding customers: 10k vs 100k rows must use the same memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (10_000, 100_000)
# ru_maxrss is in KiB on Linux but in bytes on macOS.
_KIB = 1024 if sys.platform == "darwin" else 1


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // _KIB


def child(count: int, folder: str) -> None:
    """Seed `count` customers into a fresh SQLite store; print peak RSS (KiB) and time as JSON."""
    from dualwrite.stores.datastore import Side, prepare_data_store, row_counts
    from dualwrite.stores.generator import seed_fo

    url = f"sqlite:///{Path(folder) / f'fo_{count}.db'}"
    prepare_data_store(url, Side.FO)
    before = _peak_kib()  # interpreter, SQLAlchemy and our modules, before any row is made
    started = time.perf_counter()
    seed_fo(url, customers=count)
    elapsed = time.perf_counter() - started
    peak = _peak_kib()
    stored = row_counts(url, Side.FO)["customersv3"]
    print(json.dumps({"rows": stored, "seconds": elapsed, "before_kib": before, "peak_kib": peak}))


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for count in SIZES:
            # A fresh process per size: ru_maxrss never goes down, so sizes must not share one.
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(count), folder],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        rate = r["rows"] / r["seconds"]
        mib, grew = r["peak_kib"] / 1024, (r["peak_kib"] - r["before_kib"]) / 1024
        print(
            f"seed {r['rows']:>7,} customers: peak RSS {mib:6.1f} MiB "
            f"(+{grew:4.1f} MiB while seeding), {r['seconds']:5.2f} s, {rate:8,.0f} rows/s"
        )
    small, large = results
    print(f"peak RSS ratio 100k/10k: {large['peak_kib'] / small['peak_kib']:.2f} (flat = 1.0)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
