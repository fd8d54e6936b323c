"""Every failure prints `Error DW…: message` and a hint on stderr and exits 1: no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import Result

from clirun import Run
from dualwrite.control.store import ControlStore

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/x"


def _assert_rendered(result: Result, code: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith(f"Error {code}:"), result.stderr
    assert "\nHint: " in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("variable", "value", "code", "names"),
    [
        ("DUALWRITE_DATABASE_URL", "not a url", "DW2001", "not a url"),
        ("DUALWRITE_DATABASE_URL", UNREACHABLE, "DW2002", "127.0.0.1"),
        ("DUALWRITE_PORT", "eighty", "DW1000", "DUALWRITE_PORT"),
        ("DUALWRITE_ENVIRONMENT", "production", "DW1000", "DUALWRITE_SECRET_KEY"),
    ],
)
def test_bad_settings_and_control_stores(
    run: Run, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, code: str, names: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = run("whoami", ok=False)
    _assert_rendered(result, code)
    assert names in result.stderr


def test_init_on_an_unreachable_control_store(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALWRITE_DATABASE_URL", UNREACHABLE)
    result = run(
        "init",
        *("--domain", "contoso.onmicrosoft.com", "--tenant-name", "Contoso"),
        *("--admin-upn", "admin@contoso.onmicrosoft.com", "--admin-name", "Admin"),
        *("--password", "Correct horse 42!"),
        ok=False,
    )
    _assert_rendered(result, "DW2002")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("project", "create", "ERP"), "DW1001"),  # a duplicate name
        (("project", "show", "Nope"), "DW1002"),
        (("platform", "env", "create", "Sales", "--region", "Atlantis"), "DW1003"),
        (("user", "license", "admin@contoso.onmicrosoft.com", "NOT_A_SKU"), "DW1004"),
        (("user", "grant", "admin@contoso.onmicrosoft.com", "overlord"), "DW1005"),
        (
            ("env", "create", "contoso-x", "--project", "ERP", "--database-url", "nonsense"),
            "DW2001",
        ),
        (
            ("env", "create", "contoso-x", "--project", "ERP", "--database-url", UNREACHABLE),
            "DW2002",
        ),
        (("login", "--upn", "admin@contoso.onmicrosoft.com", "--password", "wrong"), "DW3001"),
        (("data", "seed", "Nope"), "DW1002"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_service_errors(initialised: Run, args: tuple[str, ...], code: str) -> None:
    initialised("project", "create", "ERP")
    _assert_rendered(initialised(*args, ok=False), code)


def test_not_signed_in(initialised: Run) -> None:
    initialised("logout")
    _assert_rendered(initialised("env", "list", ok=False), "DW3003")


def test_not_initialised(run: Run, home: Path) -> None:
    for command in (("project", "list"), ("env", "list"), ("whoami",), ("tenant", "list")):
        result = run(*command, ok=False)
        _assert_rendered(result, "DW1006")
        assert "dualwrite init" in result.stderr
        assert "--home" in result.stderr
    assert not home.exists()  # a failed command leaves nothing behind


def test_not_initialised_names_the_demo_next_door(run: Run, home: Path) -> None:
    demo = ControlStore(f"sqlite:///{home / 'demo' / 'control.db'}")  # what `make demo` made
    demo.upgrade()
    demo.dispose()
    result = run("env", "list", ok=False)
    _assert_rendered(result, "DW1006")
    assert f"dualwrite --home {home / 'demo'}" in " ".join(result.stderr.split())
    assert not (home / "control.db").exists()


def test_a_garbled_credentials_file_means_not_signed_in(initialised: Run, home: Path) -> None:
    (home / "credentials.json").write_text("{not json")
    _assert_rendered(initialised("whoami", ok=False), "DW3003")
    for garbled in ('{"token": "forged"}', "[]", '{"token": 5}', '{"upn": "a@b.c"}'):
        (home / "credentials.json").write_text(garbled)
        _assert_rendered(initialised("whoami", ok=False), "DW3003")


def test_seeding_needs_the_environment_to_be_visible(initialised: Run) -> None:
    initialised("project", "create", "ERP")
    initialised("env", "create", "contoso-test", "--project", "ERP", "--legal-entity", "USMF")
    pat = "pat@contoso.onmicrosoft.com"
    initialised("user", "create", "--upn", pat, "--name", "Pat", "--password", "Correct horse 42!")
    initialised("login", "--upn", pat, "--password", "Correct horse 42!")
    _assert_rendered(
        initialised("data", "seed", "contoso-test", "--customers", "5", ok=False), "DW1002"
    )


def test_a_data_directory_that_cannot_be_made(run: Run, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    home = str(tmp_path / "a-file" / "home")
    # A read-only command only says nothing is there; `init`, which creates, says why it cannot.
    _assert_rendered(run("--home", home, "whoami", ok=False), "DW1006")
    result = run(
        *("--home", home, "init", "--domain", "contoso.onmicrosoft.com", "--tenant-name", "C"),
        *("--admin-upn", "admin@contoso.onmicrosoft.com", "--admin-name", "A"),
        *("--password", "correct horse battery staple"),
        ok=False,
    )
    _assert_rendered(result, "DW2006")
    assert "Not a directory" in result.stderr
    assert "a-file" in result.stderr
