"""`dualwrite demo` builds a world whose printed credentials work; `serve` answers on HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from clirun import Run, as_json

ADMIN = "admin@contoso.onmicrosoft.com"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _password(stdout: str) -> str:
    found = re.search(r"Password\s+(\S+)", stdout)
    assert found, stdout
    return found.group(1)


def _run_printed(stdout: str) -> subprocess.CompletedProcess[str]:
    """The CLI command the demo prints, run in a shell as a newcomer pastes it."""
    lines = stdout.splitlines()
    command = lines[lines.index("CLI, already signed in:") + 1].strip()
    cwd = Path(sys.executable).parents[2]  # printed relative to where `make demo` runs
    return subprocess.run(  # noqa: S602 - the demo's own printed command
        command,
        shell=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},  # a table as wide as its names
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def test_demo_prints_credentials_that_sign_in(run: Run, home: Path) -> None:
    result = run("demo", "--no-serve", "--customers", "200")
    password = _password(result.stdout)
    demo_home = home / "demo"
    assert ADMIN in result.stdout
    assert f" --home {demo_home} env list" in result.stdout
    assert "contoso-sandbox" in _run_printed(result.stdout).stdout  # works as printed
    # Already signed in: the demo admin's token is kept in the demo's own data directory.
    assert as_json(run("--home", str(demo_home), "whoami", "--json"))["upn"] == ADMIN
    run("--home", str(demo_home), "logout")
    login = run("--home", str(demo_home), "login", "--upn", ADMIN, "--password", password)
    assert "Signed in" in login.stdout
    envs = as_json(run("--home", str(demo_home), "env", "show", "contoso-sandbox", "--json"))
    assert envs["row_counts"]["customersv3"] == 200
    platforms = as_json(run("--home", str(demo_home), "platform", "env", "list", "--json"))
    field_service = next(p for p in platforms if p["name"] == "Contoso Field Service")
    assert (field_service["dataverse"], field_service["geography"]) == (True, "United States")
    # A second run starts over with a new password.
    again = run("demo", "--no-serve", "--customers", "10")
    assert password not in again.stdout
    stale = run("--home", str(demo_home), "login", "--upn", ADMIN, "--password", password, ok=False)
    assert "Error DW3001" in stale.stderr


def test_demo_in_a_folder_of_its_own_ignores_the_database_url(
    run: Run, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUALWRITE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    folder = tmp_path / "my demo"
    first = run("demo", "--home", str(folder), "--no-serve", "--customers", "5")
    assert (folder / "control.db").exists()
    assert "dualwrite --home '" in first.stdout  # quoted: the path has a space
    run("demo", "--home", str(folder), "--no-serve", "--customers", "5")  # its own: wiped again


@pytest.mark.postgresql
def test_demo_on_a_server_control_store(
    run: Run, tmp_path: Path, new_database: Callable[[str], str]
) -> None:
    """`--control-store` puts the demo's control store on PostgreSQL, for workers sharing the
    maps; the printed command carries the URL; a database that is not empty is refused and
    the previous demo is kept."""
    url = new_database("postgresql")
    folder = tmp_path / "demo"
    first = run(
        "demo", "--home", str(folder), "--control-store", url, "--no-serve", "--customers", "5"
    )
    assert not (folder / "control.db").exists()
    assert "DUALWRITE_DATABASE_URL=" in first.stdout
    assert "contoso-sandbox" in _run_printed(first.stdout).stdout
    again = run("demo", "--home", str(folder), "--control-store", url, "--no-serve", ok=False)
    assert again.stderr.startswith("Error DW1000: control store:")
    assert "already has tables" in again.stderr and "create a new one" in again.stderr
    assert (folder / "environments").exists()  # the demo that is there stays


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(run: Run, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = run("demo", "--home", str(precious), "--no-serve", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error DW1000: demo folder:")
    assert "was not made by `dualwrite demo`" in result.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_serve_answers_health_over_http(run: Run, home: Path, tmp_path: Path) -> None:
    run("demo", "--no-serve", "--customers", "20")
    port = _free_port()
    script = Path(sys.executable).parent / "dualwrite"  # the console script pyproject declares
    command = [str(script), "--home", str(home / "demo"), "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "server did not answer within 30 s"
                    time.sleep(0.2)
            assert response.status_code == 200
            assert response.json()["status"] == "ok"
            server.send_signal(signal.SIGINT)  # Ctrl+C: a clean stop, so `make demo` exits 0
            assert server.wait(timeout=20) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert f"http://127.0.0.1:{port}/" in log.read_text()
    assert log.read_text().rstrip().endswith("Stopped.")


@pytest.mark.timeout(60)  # were the port not refused, this would serve until killed
@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_taken_port_is_refused_before_any_work(run: Run, home: Path, command: str) -> None:
    if command == "serve":
        run("demo", "--no-serve", "--customers", "5", "--home", str(home))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run(command, "--port", port, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error DW1000: --port: cannot listen on 127.0.0.1:{port}")
    assert not (home / "demo").exists()  # the demo was not built


def _json_lines(path: Path) -> list[dict[str, object]]:
    """Every line of a log file written with --log-format json, parsed (one must not fail)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"nothing within 30 s:\n{log.read_text()}"
        time.sleep(0.2)


def test_worker_writes_json_log_lines(run: Run, home: Path, tmp_path: Path) -> None:
    run("demo", "--no-serve", "--customers", "5")
    script = Path(sys.executable).parent / "dualwrite"
    command = [str(script), "--home", str(home / "demo"), "worker", "--log-format", "json"]
    log = tmp_path / "worker.log"
    with log.open("wb") as stderr:
        worker = subprocess.Popen(  # noqa: S603
            [*command, "--log-level", "info"], stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            _wait_for(lambda: "sync worker started" in log.read_text(), worker, log)
        finally:
            _stop(worker)
    lines = _json_lines(log)
    started = next(
        line for line in lines if line["message"] == f"sync worker started (pid {worker.pid})"
    )
    assert (started["level"], started["logger"], started["pid"]) == (
        "INFO",
        "dualwrite.health",
        worker.pid,
    )
    assert str(started["ts"]).endswith("Z")


def test_serve_writes_json_log_lines_with_the_access_log(
    run: Run, home: Path, tmp_path: Path
) -> None:
    run("demo", "--no-serve", "--customers", "5")
    port = _free_port()
    script = Path(sys.executable).parent / "dualwrite"
    command = [str(script), "--home", str(home / "demo"), "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(  # noqa: S603
            [*command, "--log-format", "json", "--log-level", "info"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:

            def answers() -> bool:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                except httpx.TransportError:
                    return False
                return True

            _wait_for(answers, server, log)
            _wait_for(lambda: "/api/v1/health" in log.read_text(), server, log)
        finally:
            _stop(server)
    lines = _json_lines(log)
    access = next(line for line in lines if line["logger"] == "uvicorn.access")
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/health", 200)
    assert {"ts", "level", "logger", "message"} <= access.keys()
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # the server's own log
    assert any(line["logger"] == "dualwrite.health" for line in lines)  # the worker inside
