"""Creates through the environment APIs: single-record latency with synchronous dual-write vs
asynchronous, and throughput. `dualwrite serve` (with its sync worker) runs in its own process
on a linked world whose maps are Running; a registered application signs in with its client
secret and POSTs customers to F&O OData. Rounds interleave the two modes of the accounts map;
sync/async ratios of p50 and p99 print as ranges (target: synchronous <= 2x asynchronous).
Then creates/s of one client and of four at once, synchronous."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _databases import fresh_postgres
from _world import ADMIN, DOMAIN, bench_settings, linked_world
from sqlalchemy import select

from dualwrite.control.models import DualWriteLink, FoEnvironment, TableMapState
from dualwrite.control.store import ControlStore
from dualwrite.identity import apps, directory
from dualwrite.identity.environment_access import grant_application_user
from dualwrite.link import tablemaps
from dualwrite.stores.generator import seed_fo

ACCOUNTS = "Customers V3 (accounts)"


def _serve(home: Path, settings_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        **settings_env,
        "DUALWRITE_HOME": str(home),
        "DUALWRITE_LOG_LEVEL": "error",
    }
    program = str(Path(sys.executable).parent / "dualwrite")
    server = subprocess.Popen(
        [program, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # bounded wait for start-up (30 s)
        try:
            httpx.get(f"{base}/api/v1/health", timeout=1)
            return server, base
        except httpx.TransportError:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the server did not start (exit code {server.poll()})")


def _prepare(home: Path, fo_url: str, dv_url: str) -> tuple[str, str]:
    """The world with every map run (initial sync by the served worker) and an application
    user; returns its client ID and secret."""
    settings = bench_settings(home)
    store = ControlStore(settings.control_url)
    store.upgrade()
    try:
        linked_world(store, settings, fo_url, dv_url)
        seed_fo(fo_url, legal_entities=["USMF"], customers=200)
        with store.session() as session:
            admin = directory.get_user(session, ADMIN)
            link = session.scalars(select(DualWriteLink)).one()
            names = [m.name for m in link.table_maps if m.name != "Customers V3 (contacts)"]
            tablemaps.run_maps(session, admin, link, names, initial_sync=True)
            app, secret = apps.create_application(session, admin, "Bench client")
            env = session.scalars(select(FoEnvironment)).one()
            grant_application_user(session, admin, env, app.client_id, "System administrator")
            return app.client_id, secret.value
    finally:
        store.dispose()


def _wait_running(home: Path) -> None:
    store = ControlStore(bench_settings(home).control_url)
    try:
        for _ in range(1200):  # bounded: 60 s for the initial syncs
            with store.session() as session:
                states = set(session.scalars(select(TableMapState.state)))
            if states <= {"Running", "Not running"} and "Running" in states:
                return
            time.sleep(0.05)
        raise RuntimeError(f"the maps did not reach Running: {states}")
    finally:
        store.dispose()


def _set_mode(home: Path, synchronous: bool) -> None:
    store = ControlStore(bench_settings(home).control_url)
    try:
        with store.session() as session:
            link = session.scalars(select(DualWriteLink)).one()
            admin = directory.get_user(session, ADMIN)
            tablemaps.set_sync_mode(session, admin, link, ACCOUNTS, synchronous=synchronous)
    finally:
        store.dispose()


class Creator:
    """Creates customers with fresh account numbers through F&O OData."""

    def __init__(self, base: str, client_id: str, secret: str) -> None:
        resource = f"{base}/environments/bench"
        token = httpx.post(
            f"{base}/{DOMAIN}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": f"{resource}/.default",
            },
        ).json()["access_token"]
        self.url = f"{resource}/data/CustomersV3"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.lock = threading.Lock()
        self.next = 0

    def one(self, client: httpx.Client) -> float:
        with self.lock:
            self.next += 1
            number = self.next
        body = {
            "CustomerAccount": f"B-{number:07d}",
            "OrganizationName": f"Bench {number}",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
        }
        began = time.perf_counter()
        response = client.post(self.url, json=body)
        took = (time.perf_counter() - began) * 1000
        if response.status_code != 201:
            raise RuntimeError(f"create failed: {response.status_code} {response.text}")
        return took


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else values[0]


def measure(name: str, fo_url: str, dv_url: str, folder: Path, rounds: int, creates: int) -> None:
    home = folder / "home"
    client_id, secret = _prepare(home, fo_url, dv_url)
    environ = {
        "DUALWRITE_STORE_DIRECTORIES": str(folder),
        "DUALWRITE_STORE_SERVERS": "127.0.0.1:5432",
    }
    server, base = _serve(home, environ)
    try:
        _wait_running(home)
        creator = Creator(base, client_id, secret)
        with httpx.Client(headers=creator.headers, timeout=60) as client:
            for _ in range(20):  # warm-up: pools, caches, the maps built
                creator.one(client)
            p50s, p99s, sync_p50, async_p50 = [], [], [], []
            for _ in range(rounds):
                results = {}
                for synchronous in (True, False):
                    _set_mode(home, synchronous)
                    creator.one(client)  # the first write after a change rebuilds the maps
                    results[synchronous] = [creator.one(client) for _ in range(creates)]
                sync, asyn = results[True], results[False]
                p50s.append(statistics.median(sync) / statistics.median(asyn))
                p99s.append(_p(sync, 99) / _p(asyn, 99))
                sync_p50.append(statistics.median(sync))
                async_p50.append(statistics.median(asyn))
            _set_mode(home, True)
            creator.one(client)
            began = time.perf_counter()
            done = sum(1 for _ in range(creates) if creator.one(client))
            single = done / (time.perf_counter() - began)
        parallel = _parallel(creator, creates)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"{name:<10} create p50 synchronous {min(sync_p50):.1f}-{max(sync_p50):.1f} ms, "
        f"asynchronous {min(async_p50):.1f}-{max(async_p50):.1f} ms; sync/async p50 "
        f"{min(p50s):.2f}-{max(p50s):.2f}, p99 {min(p99s):.2f}-{max(p99s):.2f} (target <= 2.0); "
        f"synchronous creates/s: one client {single:.0f}, four clients {parallel:.0f}"
    )


def _parallel(creator: Creator, creates: int) -> float:
    def work() -> None:
        with httpx.Client(headers=creator.headers, timeout=60) as client:
            for _ in range(creates):
                creator.one(client)

    threads = [threading.Thread(target=work) for _ in range(4)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 4 * creates / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--creates", type=int, default=150, help="per round and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        measure(
            "sqlite",
            f"sqlite:///{root / 'fo.db'}",
            f"sqlite:///{root / 'dv.db'}",
            root,
            args.rounds,
            args.creates,
        )
    try:
        fo_url, dv_url = fresh_postgres("dw_bench_wr_fo"), fresh_postgres("dw_bench_wr_dv")
    except Exception as exc:  # the benchmark skips an absent server
        print(f"postgresql skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as folder:
        measure("postgresql", fo_url, dv_url, Path(folder), args.rounds, args.creates)


if __name__ == "__main__":
    main()
