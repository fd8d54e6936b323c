"""Initial sync details: each execution's rows read, written and failed, the failed records with
their reasons, and "Re-run execution" retrying only those — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from backends import require_backend
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.ops import initialsync
from dualwrite.ops.activity import ActivityFilter, list_activity
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import add_user, linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"


def _sql(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_executions_failed_records_and_rerun(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> None:
    require_backend(backend)
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        add_user(session, directory.get_user(session, ADMIN), "joe")
    seed_fo(fo_url, legal_entities=["USMF"], customers=6)
    # Two customers without a name: Dataverse accounts require one.
    _sql(
        fo_url,
        "UPDATE customersv3 SET organizationname = NULL WHERE customeraccount IN ('US-000002', 'US-000005')",
    )
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    with store.session() as session:
        detail = initialsync.initial_sync_read(session, the_link(session), ACCOUNTS)
    (run,) = detail.runs
    assert (run.master, run.read, run.written, run.failed, run.error) == ("fo", 6, 4, 2, None)
    assert run.finished_at is not None
    assert sorted(e.source_key["recid"] for e in detail.failed_records) == [2, 5]  # type: ignore[type-var]
    assert all(e.direction == "fo_to_dv" for e in detail.failed_records)

    with store.session() as session, pytest.raises(DualWriteError) as denied:
        initialsync.rerun_execution(
            session,
            directory.get_user(session, "joe@contoso.onmicrosoft.com"),
            the_link(session),
            ACCOUNTS,
        )
    assert denied.value.code == "DW3004"
    _sql(
        fo_url,
        "UPDATE customersv3 SET organizationname = 'Named now' WHERE customeraccount = 'US-000002'",
    )
    with store.session() as session:
        result = initialsync.rerun_execution(
            session, directory.get_user(session, ADMIN), the_link(session), ACCOUNTS
        )
    assert (result.fixed, result.still_failing) == (1, 1)
    with store.session() as session:
        link = the_link(session)
        detail = initialsync.initial_sync_read(session, link, ACCOUNTS)
        entries = list_activity(session, link.fo_environment, ActivityFilter(kind="retry"))
    assert (detail.runs[0].written, detail.runs[0].failed) == (5, 1)
    assert len(detail.failed_records) == 1
    assert entries[0].message.endswith(": 1 fixed, 1 still failing")
    engine = make_engine(dv_url)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM account WHERE name = 'Named now'")).scalar_one()
            == 1
        )
    engine.dispose()
