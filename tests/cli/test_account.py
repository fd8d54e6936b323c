"""init, login, logout, whoami — and how the CLI reports errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clirun import Run, as_json
from factories import PASSWORD


def test_init_signs_the_admin_in_with_a_private_credentials_file(
    initialised: Run, home: Path
) -> None:
    me = as_json(initialised("whoami", "--json"))
    assert me["upn"] == "admin@contoso.onmicrosoft.com"
    assert me["roles"] == ["Global administrator"]
    assert os.stat(home / "credentials.json").st_mode & 0o777 == 0o600


def test_init_prompts_for_the_password_twice(run: Run) -> None:
    init = ("init", "--domain", "contoso.onmicrosoft.com", "--tenant-name", "Contoso")
    admin = ("--admin-upn", "admin@contoso.onmicrosoft.com", "--admin-name", "Admin")
    result = run(*init, *admin, input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert "do not match" in result.stdout + result.stderr
    assert PASSWORD not in result.stdout  # hidden input
    run("logout")
    run("login", "--upn", "admin@contoso.onmicrosoft.com", "--password", PASSWORD)


def test_init_takes_the_password_from_the_environment(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUALWRITE_ADMIN_PASSWORD", PASSWORD)
    run(
        *("init", "--domain", "contoso.onmicrosoft.com", "--tenant-name", "Contoso"),
        *("--admin-upn", "admin@contoso.onmicrosoft.com", "--admin-name", "Admin"),
    )
    run("logout")
    run("login", "--upn", "admin@contoso.onmicrosoft.com", "--password", PASSWORD)


def test_login_makes_a_readable_credentials_file_private(initialised: Run, home: Path) -> None:
    (home / "credentials.json").chmod(0o644)
    initialised("login", "--upn", "admin@contoso.onmicrosoft.com", "--password", PASSWORD)
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
