"""Dual-write from the CLI: link, apply solution, run with initial sync, errors, pause/resume."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from clirun import Run, as_json, integrate
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker

ACCOUNTS = "Customers V3 (accounts)"
TENANT = "contoso.onmicrosoft.com"  # default stores live in a folder per tenant


def _worker_ticks(home: Path, n: int = 6) -> None:
    store = ControlStore(f"sqlite:///{home / 'control.db'}")
    worker = Worker(store)
    try:
        for _ in range(n):
            worker.tick()
    finally:
        worker.close()
        store.dispose()


def test_link_run_and_operate_maps(initialised: Run, home: Path) -> None:
    run = initialised
    run("project", "create", "ERP")
    run("env", "create", "contoso-test", "--project", "ERP", "--legal-entity", "USMF")
    run("data", "seed", "contoso-test", "--customers", "30")
    run("platform", "env", "create", "Sales")
    assert "not linked" in run("maps", "list", "contoso-test", ok=False).stderr
    integrate(run, "contoso-test", "Sales")
    link = as_json(
        run(
            "link",
            "create",
            "contoso-test",
            "--dataverse",
            "Sales",
            "--legal-entity",
            "USMF",
            "--consent",
            "--json",
        )
    )
    assert link["legal_entities"] == ["USMF"]
    assert "published" in run("link", "apply-solution", "contoso-test").stdout
    maps = as_json(run("maps", "list", "contoso-test", "--json"))
    assert len(maps) == 9 and {m["state"] for m in maps} == {"Not running"}
    country = ("maps", "transform", "contoso-test", ACCOUNTS, "--field", "address1_country")
    typo = run(*country, "--value", "USA", ok=False)
    assert "--value: 'USA' is not 'F&O value = Dataverse value'" in typo.stderr
    saved = run(*country, "--value", "USA = United States", "--otherwise-dataverse", "Other")
    assert "value map USA ↔ United States (otherwise Other / (empty))" in saved.stdout
    fields = as_json(run("maps", "fields", "contoso-test", ACCOUNTS, "--json"))
    assert [f["dataverse"] for f in fields if f["edited"]] == ["address1_country"]

    started = run("maps", "run", "contoso-test", ACCOUNTS, "--initial-sync")
    assert "Legal entities (cdm_companies)" in started.stdout
    _worker_ticks(home)
    account = as_json(run("maps", "show", "contoso-test", ACCOUNTS, "--json"))
    assert (account["state"], account["progress_done"]) == ("Running", 30)
    dv = make_engine(f"sqlite:///{home / 'environments' / TENANT / 'pp-sales' / 'dataverse.db'}")
    with dv.connect() as conn:
        countries = conn.scalars(text("SELECT DISTINCT address1_country FROM account")).all()
    assert countries == ["United States"]

    bad = run("maps", "resume", "contoso-test", ACCOUNTS, ok=False)
    assert (
        "Error DW5001: Cannot resume table map 'Customers V3 (accounts)': it is Running."
        in bad.stderr
    )
    run("maps", "pause", "contoso-test", ACCOUNTS)
    fo = make_engine(f"sqlite:///{home / 'environments' / TENANT / 'contoso-test' / 'fo.db'}")
    with fo.begin() as conn:
        conn.execute(text("UPDATE customersv3 SET addresscity = 'Queued'"))
    _worker_ticks(home, 2)
    paused = as_json(run("maps", "show", "contoso-test", ACCOUNTS, "--json"))
    assert paused["state"] == "Paused"
    assert paused["queued"]["fo_to_dv"] == 30
    page = as_json(run("maps", "queue", "contoso-test", ACCOUNTS, "--limit", "20", "--json"))
    assert len(page) == 20 and {r["operation"] for r in page} == {"update"}
    rest = as_json(
        run(
            "maps",
            "queue",
            "contoso-test",
            ACCOUNTS,
            "--after",
            str(page[-1]["position"]),
            "--json",
        )
    )
    assert len(rest) == 10
    assert {r["key"]["customeraccount"] for r in page + rest} == {
        f"US-{i:06d}" for i in range(1, 31)
    }
    run("maps", "resume", "contoso-test", ACCOUNTS)
    _worker_ticks(home, 3)
    resumed = as_json(run("maps", "show", "contoso-test", ACCOUNTS, "--json"))
    assert (resumed["state"], resumed["queued"]["fo_to_dv"]) == ("Running", 0)

    with dv.begin() as conn:
        conn.execute(
            text("UPDATE account SET name = :n WHERE accountnumber = 'US-000001'"), {"n": "y" * 130}
        )
    _worker_ticks(home, 2)
    errors = as_json(run("errors", "list", "contoso-test", "--json"))
    assert [e["source_key"]["accountnumber"] for e in errors] == ["US-000001"]
    assert "value too long" in errors[0]["reason"]
    error_id = str(errors[0]["id"])
    shown = as_json(run("errors", "show", "contoso-test", error_id, "--json"))
    assert (shown["direction"], shown["status"]) == ("dv_to_fo", "open")
    assert shown["target_record"]["customeraccount"] == "US-000001"
    name = next(f for f in shown["fields"] if f["target_column"] == "organizationname")
    assert (name["source_value"], name["would_write"], name["differs"]) == (
        "y" * 130,
        "y" * 130,
        True,
    )
    assert name["target_value"] == shown["target_record"]["organizationname"] != "y" * 130
    table = run("errors", "show", "contoso-test", error_id).stdout
    assert f"Error {error_id}" in table and "too long: 130 characters, at most 100" in table
    row = next(line for line in table.splitlines() if " organizationname " in line and "≠" in line)
    assert "field" in row and "name" in row
    missing = run("errors", "show", "contoso-test", "999", ok=False)
    assert missing.stderr.startswith(
        "Error DW5013: There is no error 999 in the error log of 'contoso-test'."
    )
    assert "dualwrite errors list contoso-test" in missing.stderr
    with dv.begin() as conn:
        conn.execute(text("UPDATE account SET name = 'Short' WHERE accountnumber = 'US-000001'"))
    assert (
        "1 fixed, 0 still failing"
        in run("errors", "retry", "contoso-test", "--map", ACCOUNTS).stdout
    )
    assert as_json(run("errors", "list", "contoso-test", "--json")) == []
    run("maps", "stop", "contoso-test", ACCOUNTS)
    fo.dispose()
    dv.dispose()
