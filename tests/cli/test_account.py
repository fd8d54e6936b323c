"""init, login, logout, whoami — and how the CLI reports errors."""

from __future__ import annotations

import os
from pathlib import Path

from clirun import Run, as_json
from factories import PASSWORD


def test_init_signs_the_admin_in_with_a_private_credentials_file(
    initialised: Run, home: Path
) -> None:
    me = as_json(initialised("whoami", "--json"))
    assert me["upn"] == "admin@contoso.onmicrosoft.com"
    assert me["roles"] == ["Global administrator"]
    assert os.stat(home / "credentials.json").st_mode & 0o777 == 0o600


def test_init_twice_is_refused(initialised: Run) -> None:
    result = initialised(
        "init",
        "--domain",
        "other.onmicrosoft.com",
        "--tenant-name",
        "Other",
        "--admin-upn",
        "a@other.onmicrosoft.com",
        "--admin-name",
        "A",
        "--password",
        PASSWORD,
        ok=False,
    )
    assert result.exit_code == 1
    assert "Error DW1007" in result.stderr


def test_errors_are_one_line_with_a_hint_and_no_traceback(run: Run) -> None:
    result = run("env", "list", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error DW1006:")
    assert "Hint: Run `dualwrite init`" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_logout_then_commands_need_sign_in_and_login_restores(initialised: Run) -> None:
    initialised("logout")
    result = initialised("whoami", ok=False)
    assert "Error DW3003" in result.stderr
    wrong = initialised(
        "login", "--upn", "admin@contoso.onmicrosoft.com", "--password", "wrong!", ok=False
    )
    assert "Error DW3001: The user name or password is incorrect." in wrong.stderr
    initialised("login", "--upn", "admin@contoso.onmicrosoft.com", input=f"{PASSWORD}\n")
    assert as_json(initialised("whoami", "--json"))["upn"] == "admin@contoso.onmicrosoft.com"


def test_token_from_the_environment(initialised: Run, home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    token = (home / "credentials.json").read_text()
    (home / "credentials.json").unlink()
    import json

    monkeypatch.setenv("DUALWRITE_TOKEN", json.loads(token)["token"])
    assert as_json(initialised("whoami", "--json"))["tenant"] == "contoso.onmicrosoft.com"


def test_db_commands(initialised: Run) -> None:
    assert "up to date" in initialised("db", "current").stdout
    assert "is at revision" in initialised("db", "upgrade").stdout
