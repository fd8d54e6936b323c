"""Web API read throughput: 100,000 accounts read through the Dataverse Web API in pages of
5,000 (a real HTTP client against `dualwrite serve` in its own process, JSON parsed) vs a direct
SQL read of the same rows and columns. Rounds interleave; the ratio is API rows/s over SQL
rows/s per round, printed as a range (target >= 0.30)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from _databases import fresh_postgres
from sqlalchemy import select, text

from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity import directory, sessions
from dualwrite.installation import operators
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from dualwrite.stores import dataverse as dv
from dualwrite.stores.generator import seed_dataverse

ACCOUNTS, PAGE, ROUNDS = 100_000, 5_000, 5
PASSWORD = "bench password, long enough"  # noqa: S105 - a throwaway benchmark tenant


def _world(home: Path, dv_url: str) -> tuple[Settings, str, str]:
    settings = Settings(
        home=home,
        database_url=None,
        store_directories=[home.parent],
        store_servers=["127.0.0.1:5432"],
    )
    store = ControlStore(settings.control_url)
    store.upgrade()
    try:
        with store.session() as session:
            _tenant, admin = directory.create_tenant(
                session,
                None,
                domain="bench.onmicrosoft.com",
                display_name="Bench",
                admin_upn="admin@bench.onmicrosoft.com",
                admin_name="Bench Admin",
                admin_password=PASSWORD,
            )
            operators.make_operator(session, admin)
            env = platform.create_environment(
                session,
                settings,
                admin,
                name="Bench",
                region="West US",
                dataverse=True,
                dataverse_url=dv_url,
            )
            env_id = env.id
        token = sessions.sign_in(
            store,
            settings,
            "admin@bench.onmicrosoft.com",
            PASSWORD,
            sessions.SessionKind.BEARER,
            source="bench",
        ).token
    finally:
        store.dispose()
    return settings, env_id, token


def _serve(home: Path, store_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "DUALWRITE_HOME": str(home),
        "DUALWRITE_STORE_DIRECTORIES": str(store_dir),
        "DUALWRITE_LOG_LEVEL": "error",
    }
    program = str(Path(sys.executable).parent / "dualwrite")
    command = [program, "serve", "--no-worker", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    for _ in range(600):  # bounded wait for start-up (30 s)
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return server, port
        except httpx.TransportError:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the server did not start (exit code {server.poll()})")


def _api_read(client: httpx.Client, url: str) -> int:
    rows = 0
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        response.raise_for_status()
        page = orjson.loads(response.content)
        rows += len(page["value"])
        next_url = page.get("@odata.nextLink")
    return rows


def _sql_read(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(dv.account).order_by(dv.account.c.accountid)).all()
        return len(rows)
    finally:
        engine.dispose()


def measure(name: str, dv_url: str, home: Path) -> None:
    settings, env_id, token = _world(home, dv_url)
    seed_dataverse(dv_url, legal_entities=["USMF"], accounts=ACCOUNTS)
    if dv_url.startswith("postgresql"):
        # What autovacuum does soon after a bulk load: without statistics the planner sorts the
        # whole table for each page instead of walking the primary key.
        engine = make_engine(dv_url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()
    server, port = _serve(home, home.parent)
    url = f"http://127.0.0.1:{port}/dataverse/{env_id}/api/data/v9.2/accounts"
    headers = {"Authorization": f"Bearer {token}", "Prefer": f"odata.maxpagesize={PAGE}"}
    ratios, api_rates, sql_rates = [], [], []
    try:
        with httpx.Client(headers=headers, timeout=120) as client:
            # Warm-up (caches, pools, plans), and both reads see every row.
            if _api_read(client, url) != ACCOUNTS or _sql_read(dv_url) != ACCOUNTS:
                raise RuntimeError("the reads did not see every account")
            for _ in range(ROUNDS):
                began = time.perf_counter()
                _sql_read(dv_url)
                sql = ACCOUNTS / (time.perf_counter() - began)
                began = time.perf_counter()
                _api_read(client, url)
                api = ACCOUNTS / (time.perf_counter() - began)
                ratios.append(api / sql)
                api_rates.append(api)
                sql_rates.append(sql)
    finally:
        server.terminate()
        server.wait(timeout=30)
    del settings
    print(
        f"{name:<10} Web API {min(api_rates):8.0f}-{max(api_rates):8.0f} rows/s, direct SQL "
        f"{min(sql_rates):8.0f}-{max(sql_rates):8.0f} rows/s, ratio {min(ratios):.2f}-"
        f"{max(ratios):.2f} (target >= 0.30)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        measure("sqlite", f"sqlite:///{root / 'dataverse.db'}", root / "home")
    try:
        pg_url = fresh_postgres("dw_bench_webapi")
    except Exception as exc:  # the benchmark skips an absent server
        print(f"postgresql skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as folder:
        measure("postgresql", pg_url, Path(folder) / "home")


if __name__ == "__main__":
    main()
