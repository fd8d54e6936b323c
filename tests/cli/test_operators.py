"""`dualwrite init` makes the first administrator the installation operator; `dualwrite
operator list|grant|revoke`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from clirun import Run
from dualwrite.control.store import ControlStore
from factories import PASSWORD

FABRIKAM = "fabrikam.onmicrosoft.com"


def test_operator_commands(initialised: Run, home: Path) -> None:
    """`dualwrite init` makes the first administrator an operator; `dualwrite operator …`."""
    me = initialised("whoami", "--json")
    assert '"installation_operator": true' in me.stdout
    initialised(
        *("tenant", "create", FABRIKAM, "--name", "Fabrikam"),
        *("--admin-upn", f"admin@{FABRIKAM}", "--admin-name", "Fabrikam Admin"),
        *("--admin-password", PASSWORD),
    )
    initialised("operator", "grant", f"admin@{FABRIKAM}")
    listed = initialised("operator", "list", "--json").stdout
    assert f"admin@{FABRIKAM}" in listed and "admin@contoso.onmicrosoft.com" in listed
    initialised("operator", "revoke", f"admin@{FABRIKAM}")
    last = initialised("operator", "revoke", "admin@contoso.onmicrosoft.com", ok=False)
    assert "last operator" in last.stderr
    control = ControlStore(f"sqlite:///{home / 'control.db'}")
    with control.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM users WHERE is_operator")).scalar_one()
    control.dispose()
    assert count == 1
