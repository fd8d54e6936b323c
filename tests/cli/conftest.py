"""Run the real `dualwrite` command in-process against a temporary data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from backends import store_servers
from clirun import Run
from dualwrite.cli.app import app
from factories import PASSWORD


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run(home: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("DUALWRITE_TOKEN", raising=False)
    monkeypatch.delenv("DUALWRITE_HOME", raising=False)
    # As an installation would allow: its operator may name stores here and on the test servers.
    monkeypatch.setenv("DUALWRITE_STORE_DIRECTORIES", str(home.parent))
    monkeypatch.setenv("DUALWRITE_STORE_SERVERS", ",".join(store_servers()))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(app, ["--home", str(home), *args], input=input)
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    return invoke


@pytest.fixture
def initialised(run: Run) -> Run:
    run(
        "init",
        "--domain",
        "contoso.onmicrosoft.com",
        "--tenant-name",
        "Contoso",
        "--admin-upn",
        "admin@contoso.onmicrosoft.com",
        "--admin-name",
        "Contoso Admin",
        "--password",
        PASSWORD,
    )
    return run
