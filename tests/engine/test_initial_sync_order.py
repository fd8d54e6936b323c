"""Run with initial sync: a map's initial sync waits for the maps it looks up. When one of them
fails (its store busy or away for a moment), the maps depending on it wait for the next pass
instead of copying records whose lookups cannot resolve yet (which would end as failed records
that a later live change cannot repair until someone retries them)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from backends import require_backend
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.sync import Link
from dualwrite.engine.worker import MapTask, Worker
from dualwrite.errors import ERR
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.link.links import link_maps
from dualwrite.ops import initialsync
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import linked_world, the_link

ACCOUNTS = "Customers V3 (accounts)"
GROUPS = "Customer groups (msdyn_customergroups)"


class GroupsFailOnce(Worker):
    """The customer groups' first initial sync fails as an unreachable store makes it fail."""

    failed = False

    def _step(self, link: Link, task: MapTask, scans: dict, owned: set | None = None) -> int:  # type: ignore[type-arg]
        if task.name == GROUPS and not self.failed:
            self.failed = True
            raise ERR.DATABASE_UNREACHABLE.error(url="sqlite:///busy.db", problem="locked")
        return super()._step(link, task, scans, owned)


def _states(store: ControlStore) -> dict[str, str]:
    with store.session() as session:
        return {m.name: m.state for m in the_link(session).table_maps}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_map_waits_for_a_dependency_whose_initial_sync_failed(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> None:
    require_backend(backend)
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=5)
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = the_link(session)
        (accounts,) = [m for m in link_maps(link) if m.name == ACCOUNTS]
        assert GROUPS in accounts.depends_on
        tablemaps.run_maps(session, admin, link, [ACCOUNTS], initial_sync=True)
    worker = GroupsFailOnce(store)
    try:
        worker.tick()
        states = _states(store)
        assert states[GROUPS] == "Initializing"  # failed: tried again next pass
        assert states[ACCOUNTS] == "Initializing"  # waited for it, copied nothing
        with store.session() as session:
            assert initialsync.runs_of(session, the_link(session), ACCOUNTS) == []
        for _ in range(3):
            worker.tick()
    finally:
        worker.close()
    states = _states(store)
    assert states[GROUPS] == states[ACCOUNTS] == "Running"
    with store.session() as session:
        (run,) = initialsync.runs_of(session, the_link(session), ACCOUNTS)
    assert (run.read, run.written, run.failed) == (5, 5, 0)
    engine = make_engine(dv_url)
    try:
        with engine.connect() as conn:
            linked = conn.execute(
                text("SELECT count(*) FROM account WHERE msdyn_customergroupid IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    assert linked == 5  # every account found its customer group
