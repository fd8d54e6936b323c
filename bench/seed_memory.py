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


def child(count: int, folder: str) -> None:
    """Seed `count` customers into a fresh SQLite store and report peak RSS (KiB) and time."""
    from dualwrite.stores.datastore import Side, prepare_data_store
    from dualwrite.stores.generator import seed_fo

    url = f"sqlite:///{Path(folder) / f'fo_{count}.db'}"
    prepare_data_store(url, Side.FO)
    started = time.perf_counter()
    seed_fo(url, customers=count)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": count, "seconds": elapsed, "peak_kib": peak}))


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for count in SIZES:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(count), folder],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        rate = r["rows"] / r["seconds"]
        mib = r["peak_kib"] / 1024
        print(f"seed {r['rows']:>7} customers: peak RSS {mib:7.1f} MiB, {rate:9.0f} rows/s")
    small, large = results
    print(f"peak RSS ratio 100k/10k: {large['peak_kib'] / small['peak_kib']:.2f} (flat = 1.0)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
