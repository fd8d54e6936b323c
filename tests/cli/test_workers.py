"""`dualwrite workers`: the workers sharing the demo's maps, as a table and as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from clirun import Run, as_json
from dualwrite.control.models import TableMapState
from dualwrite.control.store import ControlStore
from dualwrite.engine.ownership import Ownership
from dualwrite.settings import Settings

ACCOUNTS = "Customers V3 (accounts)"


def test_workers_lists_who_runs_which_map_direction(
    run: Run, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("demo", "--no-serve", "--customers", "5")
    demo = ["--home", str(home / "demo")]
    none = run(*demo, "workers")
    assert "No worker shares the maps" in none.stdout and "--stream" in none.stdout
    store = ControlStore(Settings(home=home / "demo").control_url)
    try:
        with store.reading() as session:
            query = select(TableMapState.id).where(TableMapState.name == ACCOUNTS)
            map_id = session.scalars(query).one()
        owner = Ownership(store, "w-cli", "nats://127.0.0.1:4222")
        owner.register()
        owner.owned([(map_id, "fo_to_dv")])
        monkeypatch.setenv("COLUMNS", "200")  # the table as wide as its lines
        table = run(*demo, "workers").stdout
        assert "w-cli" in table and "contoso-sandbox / Customers V3 (accounts) fo_to_dv" in table
        listed = as_json(run(*demo, "workers", "--json"))
        assert [(w["id"], w["alive"]) for w in listed] == [("w-cli", True)]
        assert listed[0]["leases"][0]["queued"] == 0
        owner.stop()  # a clean stop: gone from the list at once
        assert as_json(run(*demo, "workers", "--json")) == []
    finally:
        store.dispose()


def test_worker_with_a_stream_refuses_what_cannot_work(run: Run, home: Path) -> None:
    """Clear errors before anything runs: a SQLite control store cannot be shared (DW5018),
    a name too long for the workers list is refused (DW1000)."""
    run("demo", "--no-serve", "--customers", "5")
    demo = ["--home", str(home / "demo")]
    alone = run(*demo, "worker", "--stream", "nats://127.0.0.1:4222", ok=False)
    assert alone.exit_code == 1 and alone.stderr.startswith("Error DW5018")
    named = run(*demo, "worker", "--stream", "nats://127.0.0.1:4222", "--name", "w" * 65, ok=False)
    assert named.stderr.startswith("Error DW1000: --name:") and "1 to 64" in named.stderr
