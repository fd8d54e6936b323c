"""`dualwrite demo` builds a world whose printed credentials work; `serve` answers on HTTP."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from clirun import Run, as_json


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_prints_credentials_that_sign_in(run: Run, home: Path) -> None:
    result = run("demo", "--no-serve", "--customers", "200")
    password = re.search(r"Password\s+(\S+)", result.stdout)
    assert password, result.stdout
    assert "admin@contoso.onmicrosoft.com" in result.stdout
    demo_home = home / "demo"
    login = run(
        "--home",
        str(demo_home),
        "login",
        "--upn",
        "admin@contoso.onmicrosoft.com",
        "--password",
        password.group(1),
    )
    assert "Signed in" in login.stdout
    envs = as_json(run("--home", str(demo_home), "env", "show", "contoso-sandbox", "--json"))
    assert envs["row_counts"]["customersv3"] == 200
    platforms = as_json(run("--home", str(demo_home), "platform", "env", "list", "--json"))
    field_service = next(p for p in platforms if p["name"] == "Contoso Field Service")
    assert (field_service["dataverse"], field_service["geography"]) == (True, "United States")
    # A second run starts over with a new password.
    again = run("demo", "--no-serve", "--customers", "10")
    assert password.group(1) not in again.stdout


def test_serve_answers_health_over_http(initialised: Run, home: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "dualwrite.cli",
        "--home",
        str(home),
        "serve",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=10)
