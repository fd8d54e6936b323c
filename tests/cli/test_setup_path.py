"""The whole path of the seeds from a new tenant to running maps, scripted through the CLI:
Power Platform integration with an existing Dataverse, dual-write application, Link to Power
Platform environment, Apply Solution, run with initial sync."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from clirun import Run, as_json
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker

ENV = "contoso-test"
ACCOUNTS = "Customers V3 (accounts)"


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_new_tenant_to_running_maps(initialised: Run, home: Path) -> None:
    run = initialised
    run("user", "license", "admin@contoso.onmicrosoft.com", "D365_FINANCE")
    run("project", "create", "ERP")
    run("env", "create", ENV, "--project", "ERP", "--legal-entity", "USMF")
    run("data", "seed", ENV, "--customers", "12")
    run("platform", "env", "create", "Field Service", "--region", "East US")

    section = as_json(run("env", "ppi", "show", ENV, "--json"))
    assert (section["dataverse"], section["setup_available"]) == (False, True)
    checks = run("env", "ppi", "validate", ENV, "--existing", "Field Service", "--json")
    assert all(c["passed"] for c in as_json(checks))

    unconfirmed = run("env", "ppi", "setup", ENV, "--existing", "Field Service", ok=False)
    assert unconfirmed.exit_code == 1
    assert "Error DW4005: This cannot be reversed" in unconfirmed.stderr
    assert "(Contoso Admin)" in unconfirmed.stderr
    setup = run(
        "env", "ppi", "setup", ENV, "--existing", "Field Service", "--confirm-name", "contoso admin"
    )
    assert "succeeded" in setup.stdout
    section = as_json(run("env", "ppi", "show", ENV, "--json"))
    assert (section["platform_environment"], section["dataverse"]) == ("Field Service", True)
    assert section["jobs"][0]["kind"] == "Power Platform integration setup"
    initial = as_json(run("platform", "env", "show", f"{ENV} (initial)", "--json"))
    assert (initial["dataverse"], initial["fo_environment"]) == (False, None)
    again = run("env", "ppi", "setup", ENV, "--confirm-name", "Contoso Admin", ok=False)
    assert "DW4006" in again.stderr and "cannot be reversed or changed" in again.stderr

    terms = run("env", "dualwrite-app", ENV, ok=False)
    assert "Terms and conditions" in terms.stdout and "DW4020" in terms.stderr
    assert "succeeded" in run("env", "dualwrite-app", ENV, "--accept-terms").stdout
    users = as_json(run("env", "app-users", ENV, "--json"))
    assert {u["side"] for u in users} == {"fo", "dataverse"}
    run("env", "app-user", ENV, "--side", "dataverse", "--disabled")
    refused = run("env", "link-platform", ENV, ok=False)
    assert "DW9003" in refused.stderr and f"fix-app-users {ENV}" in refused.stderr
    fixed = as_json(run("env", "fix-app-users", ENV, "--json"))  # DW9003's fix, as its hint says
    assert {(u["side"], u["enabled"]) for u in fixed} == {("fo", True), ("dataverse", True)}
    assert all(u["enabled"] for u in as_json(run("env", "app-users", ENV, "--json")))

    linked = run("env", "link-platform", ENV)
    assert f"Dual-write page: /environments/{ENV}/dualwrite" in linked.stdout
    assert "apply-solution" in run("maps", "list", ENV).stdout  # a page without maps says so
    assert "9 table maps published" in run("link", "apply-solution", ENV).stdout
    run("maps", "run", ENV, ACCOUNTS, "--initial-sync")
    store = ControlStore(f"sqlite:///{home / 'control.db'}")
    worker = Worker(store)
    try:
        for _ in range(6):
            worker.tick()
    finally:
        worker.close()
        store.dispose()
    account = as_json(run("maps", "show", ENV, ACCOUNTS, "--json"))
    assert (account["state"], account["progress_done"]) == ("Running", 12)
    dataverse = next(
        p for p in as_json(run("platform", "env", "list", "--json")) if p["name"] == "Field Service"
    )
    assert dataverse["dataverse_url"].startswith("sqlite:///")
    assert _count(dataverse["dataverse_url"], "account") == 12
