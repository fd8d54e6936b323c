"""The activity log (who did what, when; filterable, paged), and stopping maps while the
Dataverse is unavailable: seed 002's 403, then an administrator forcing Not running (logged)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from backends import SERVER_URLS
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.ops.activity import WORKER, ActivityFilter, list_activity
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import add_user, linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"


def _world(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        add_user(session, directory.get_user(session, ADMIN), "joe")
    seed_fo(fo_url, legal_entities=["USMF"], customers=7)


def _log(store: ControlStore, **filters: object) -> list[tuple[str, str, str | None, str]]:
    with store.session() as session:
        env = the_link(session).fo_environment
        entries = list_activity(session, env, ActivityFilter(**filters))  # type: ignore[arg-type]
        return [(e.actor_label, e.kind, e.map_name, e.message) for e in entries]


def test_every_change_is_logged_with_who_and_when(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    _world(store, settings, "sqlite", new_database)
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    with store.session() as session:
        admin, link = directory.get_user(session, ADMIN), the_link(session)
        tablemaps.pause_maps(session, admin, link, [ACCOUNTS])
        tablemaps.set_queue_limits(session, admin, link, ACCOUNTS, max_age_seconds=600)
        tablemaps.resume_maps(session, admin, link, [ACCOUNTS])
        tablemaps.retry_map_errors(session, admin, link, ACCOUNTS)

    mine = _log(store, map_name=ACCOUNTS)
    assert [(who, kind, message) for who, kind, _m, message in reversed(mine)] == [
        (ADMIN, "state", "Run with initial sync from finance and operations"),
        (
            WORKER,
            "initial sync",
            "Initial sync from finance and operations done: 7 of 7 records; Running",
        ),
        (ADMIN, "state", "Pause: Running → Paused"),
        (ADMIN, "configuration", "Queue limits: 600 s, 1073741824 bytes"),
        (ADMIN, "state", "Resume: Paused → Resuming"),
        (ADMIN, "retry", "Retried all open errors: 0 fixed, 0 still failing"),
    ]
    dependencies = _log(store, kind="state", actor=ADMIN.upper())
    assert ("Run with initial sync from finance and operations (a map it depends on)") in {
        m for *_x, m in dependencies
    }
    setup = _log(store, kind="configuration", map_name=None)
    assert any(m == "Linked to Sales for USMF" for *_x, m in setup)
    assert any(
        m.startswith("Applied solution Dual-write core 1.0.0: published") for *_x, m in setup
    )
    # Paged: newest first, then the next page from the last id seen.
    with store.session() as session:
        env = the_link(session).fo_environment
        first = list_activity(session, env, ActivityFilter(limit=3))
        second = list_activity(session, env, ActivityFilter(limit=3, before=first[-1].id))
    assert [e.id for e in first] == sorted((e.id for e in first), reverse=True)
    assert second[0].id < first[-1].id
    with store.session() as session, pytest.raises(DualWriteError) as err:
        list_activity(session, the_link(session).fo_environment, ActivityFilter(kind="gossip"))
    assert err.value.code == "DW1000"


def _unreachable(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":  # its folder is a file: SQLite cannot open it
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("")
        return f"sqlite:///{blocker}/dataverse.db"
    return SERVER_URLS[backend].rsplit("/", 1)[0] + f"/dw_gone_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stop_while_dataverse_is_unavailable_then_force_not_running(
    store: ControlStore,
    settings: Settings,
    backend: str,
    new_database: Callable[[str], str],
    tmp_path: Path,
) -> None:
    _world(store, settings, backend, new_database)
    with store.session() as session:
        tablemaps.run_maps(
            session,
            directory.get_user(session, ADMIN),
            the_link(session),
            [ACCOUNTS],
            initial_sync=True,
        )
    worker_ticks(store)
    with store.session() as session:  # the Dataverse goes away
        session.execute(
            text("UPDATE platform_environments SET dataverse_url = :u WHERE name = 'Sales'"),
            {"u": _unreachable(backend, tmp_path)},
        )
    with pytest.raises(DualWriteError) as err, store.session() as session:  # rolled back
        link = the_link(session)
        tablemaps.stop_maps(session, directory.get_user(session, ADMIN), link, [ACCOUNTS])
    assert (err.value.code, err.value.status) == ("DW9404", 403)
    assert err.value.message.startswith(
        '[Forbidden], [{"status":403,"source":"","message":"Error from token exchange: User is not allowed to access connection dynamicscrmonline/'
    )
    assert err.value.message.endswith("The remote server returned an error: (403) Forbidden.")
    assert "force-stop" in err.value.hint
    with store.session() as session:
        assert {m.name: m.state for m in the_link(session).table_maps}[ACCOUNTS] == "Running"
        with pytest.raises(DualWriteError) as denied:
            tablemaps.force_not_running(
                session,
                directory.get_user(session, "joe@contoso.onmicrosoft.com"),
                the_link(session),
                [ACCOUNTS],
                "gone",
            )
        assert denied.value.code == "DW3004"
        with pytest.raises(DualWriteError) as no_reason:
            tablemaps.force_not_running(
                session, directory.get_user(session, ADMIN), the_link(session), [ACCOUNTS], " "
            )
        assert no_reason.value.code == "DW1000"
    with store.session() as session:
        tablemaps.force_not_running(
            session,
            directory.get_user(session, ADMIN),
            the_link(session),
            [ACCOUNTS],
            "Dataverse decommissioned",
        )
    with store.session() as session:
        assert {m.name: m.state for m in the_link(session).table_maps}[ACCOUNTS] == "Not running"
    assert _log(store, kind="forced") == [
        (ADMIN, "forced", ACCOUNTS, "Forced to Not running (was Running): Dataverse decommissioned")
    ]
