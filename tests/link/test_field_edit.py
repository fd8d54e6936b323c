"""Editing a field mapping's direction on a link: only on a stopped map, validated, logged, and
the worker syncs by the edited mapping once the map runs again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.link import fieldmappings, links, tablemaps
from dualwrite.ops.activity import ActivityFilter, list_activity
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import add_user, linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"


def _sql(url: str, statement: str, **values: object) -> object:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), values)
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _edit(store: ControlStore, alias: str, field: str, direction: str) -> None:
    with store.session() as session:
        actor = directory.get_user(session, f"{alias}@contoso.onmicrosoft.com")
        fieldmappings.set_field_direction(
            session, actor, the_link(session), ACCOUNTS, field, direction
        )


def test_edit_a_direction_and_the_worker_follows_it(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database("sqlite"), new_database("sqlite")
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        add_user(session, directory.get_user(session, ADMIN), "joe")
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)

    with pytest.raises(DualWriteError) as running:
        _edit(store, "admin", "name", "fo_to_dv")
    assert running.value.code == "DW5012"
    with store.session() as session:
        tablemaps.stop_maps(
            session, directory.get_user(session, ADMIN), the_link(session), [ACCOUNTS]
        )
    for alias, field, direction, code in (
        ("joe", "name", "fo_to_dv", "DW3004"),
        ("admin", "nickname", "fo_to_dv", "DW1000"),
        ("admin", "name", "sideways", "DW1000"),
    ):
        with pytest.raises(DualWriteError) as err:
            _edit(store, alias, field, direction)
        assert err.value.code == code
    _edit(store, "admin", "name", "->")
    with store.session() as session:
        link = the_link(session)
        (tmap,) = [m for m in links.link_maps(link) if m.name == ACCOUNTS]
        assert next(f for f in tmap.fields if f.dv == "name").direction == "fo_to_dv"
        (entry,) = list_activity(
            session, link.fo_environment, ActivityFilter(kind="configuration", map_name=ACCOUNTS)
        )
        assert entry.message == "Field organizationname ↔ name: both → fo_to_dv"
        tablemaps.run_maps(session, directory.get_user(session, ADMIN), link, [ACCOUNTS])
    worker_ticks(store)

    # Dataverse → F&O no longer carries the name; F&O → Dataverse still does.
    _sql(dv_url, "UPDATE account SET name = 'From CRM' WHERE accountnumber = 'US-000001'")
    _sql(
        fo_url,
        "UPDATE customersv3 SET organizationname = 'From ERP' WHERE customeraccount = 'US-000002'",
    )
    worker_ticks(store)
    fo_name = _sql(
        fo_url, "SELECT organizationname FROM customersv3 WHERE customeraccount = 'US-000001'"
    )
    dv_name = _sql(dv_url, "SELECT name FROM account WHERE accountnumber = 'US-000002'")
    assert fo_name != "From CRM"
    assert dv_name == "From ERP"
