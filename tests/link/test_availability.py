"""Since when a data store does not answer (link/availability): the sync worker logs the first
failure of an outage once and the moment it answers again; the pages' check reads the same
"since" (and logs it when no worker noticed); file paths are for tenant administrators only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from backends import require_backend
from dualwrite.control.store import ControlStore
from dualwrite.identity import directory
from dualwrite.link import availability, tablemaps
from dualwrite.link.availability import StoreSide
from dualwrite.ops.activity import WORKER, ActivityFilter, list_activity
from dualwrite.settings import Settings
from factories import add_user, linked_world, the_link, worker_ticks
from outages import store_down

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"


def _availability_log(store: ControlStore) -> list[tuple[str, str]]:
    with store.session() as session:
        env = the_link(session).fo_environment
        entries = list_activity(session, env, ActivityFilter(kind="availability"))
        return [(e.actor_label, e.message) for e in reversed(entries)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_worker_logs_an_outage_once_and_its_end(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str], backend: str
) -> None:
    require_backend(backend)
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS])
    worker_ticks(store)
    assert _availability_log(store) == []
    with store_down(dv_url):
        worker_ticks(store)
        worker_ticks(store)  # a new worker, still down: the outage is not logged again
        (entry,) = _availability_log(store)
        assert entry[0] == WORKER
        assert entry[1].startswith("Dataverse data store unreachable (DW2002): ")
        assert dv_url not in entry[1]  # the log is shown to every viewer: no URL
        with store.session() as session:
            link = the_link(session)
            (outage,) = availability.check(session, link)  # the page's look: same outage
            first = availability.unreachable_since(session, link.fo_environment_id, outage.side)
            assert outage.side is StoreSide.DATAVERSE and outage.since == first
            assert outage.error.code == "DW2002"
        assert len(_availability_log(store)) == 1
    worker_ticks(store)
    assert _availability_log(store)[1:] == [(WORKER, "Dataverse data store reachable again")]
    with store.session() as session:
        assert availability.check(session, the_link(session)) == []


def test_the_pages_log_an_outage_no_worker_noticed_and_hide_paths_from_non_admins(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database("sqlite"), new_database("sqlite")
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        add_user(session, directory.get_user(session, ADMIN), "joe")
    with store_down(dv_url), store.session() as session:
        link = the_link(session)
        (outage,) = availability.check(session, link)
        assert outage.since is not None
        assert availability.check(session, link)[0].since == outage.since
        message = outage.error.message
        assert dv_url in message  # DW2002 names the URL: for administrators
        admin = directory.get_user(session, ADMIN)
        assert availability.shown_to(admin, link, message) == message
        joe = directory.get_user(session, "joe@contoso.onmicrosoft.com")
        hidden = availability.shown_to(joe, link, message) or ""
        assert str(Path(str(make_url(dv_url).database)).parent) not in hidden
        assert hidden == (
            f"Cannot connect to the database at {availability.HIDDEN_PATH}: "
            "unable to open database file"
        )
    assert [m for _who, m in _availability_log(store)] == [
        "Dataverse data store unreachable (DW2002): unable to open database file"
    ]
