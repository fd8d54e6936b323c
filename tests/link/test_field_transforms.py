"""Editing a field's transform on a link (value map, default for missing values): constants typed
by the columns and named when wrong, validated with every map, logged, reset to the solution's,
and synced by the worker in both directions once the map runs again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.link import fieldmappings, tablemaps
from dualwrite.ops.activity import ActivityFilter, list_activity
from dualwrite.schemas import TransformWrite
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import add_user, linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"
COUNTRIES = TransformWrite(
    value_map=[("USA", "United States"), ("DEU", "Germany")],
    unmatched_dataverse="Elsewhere",
    unmatched_fo="USA",
)


def _sql(url: str, statement: str) -> object:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _edit(
    store: ControlStore, field: str, body: TransformWrite | None, alias: str = "admin"
) -> None:
    with store.session() as session:
        actor = directory.get_user(session, f"{alias}@contoso.onmicrosoft.com")
        fieldmappings.set_field_transform(session, actor, the_link(session), ACCOUNTS, field, body)


def _row(store: ControlStore, field: str) -> fieldmappings.FieldMappingRead:
    with store.session() as session:
        rows = fieldmappings.field_mappings(the_link(session), ACCOUNTS)
    return next(r for r in rows if r.dataverse == field)


def _refused(store: ControlStore, field: str, body: TransformWrite, alias: str = "admin") -> str:
    with pytest.raises(DualWriteError) as err:
        _edit(store, field, body, alias)
    return f"{err.value.code} {err.value.message}"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_value_map_and_default_edited_on_the_link_are_synced_both_ways(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str], backend: str
) -> None:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)

    _edit(store, "address1_country", COUNTRIES)
    _edit(store, "creditlimit", TransformWrite(default=" 1500.50 "))
    assert _row(store, "address1_country").transform == (
        "value map USA ↔ United States, DEU ↔ Germany (otherwise Elsewhere / USA)"
    )
    assert _row(store, "creditlimit").edited
    assert _row(store, "creditlimit").default == "1500.50"
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    assert _sql(dv_url, "SELECT DISTINCT address1_country FROM account") == "United States"

    # Dataverse → F&O goes through the same table backwards, and a missing credit limit takes
    # the edited default
    _sql(dv_url, "UPDATE account SET address1_country = 'Germany' WHERE accountnumber='US-000001'")
    _sql(dv_url, "UPDATE account SET address1_country = 'Mars' WHERE accountnumber = 'US-000002'")
    _sql(dv_url, "UPDATE account SET creditlimit = NULL WHERE accountnumber = 'US-000003'")
    worker_ticks(store)
    country = "SELECT addresscountryregionid FROM customersv3 WHERE customeraccount = "
    assert _sql(fo_url, country + "'US-000001'") == "DEU"
    assert _sql(fo_url, country + "'US-000002'") == "USA"
    limit = "SELECT creditlimit FROM customersv3 WHERE customeraccount = 'US-000003'"
    assert float(str(_sql(fo_url, limit))) == 1500.5


def test_bad_transforms_are_refused_with_what_is_wrong_and_nothing_changes(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    with store.session() as session:
        linked_world(session, settings, new_database("sqlite"), new_database("sqlite"))
        add_user(session, directory.get_user(session, ADMIN), "joe")
    before = _row(store, "creditonhold")

    assert _refused(store, "creditlimit", TransformWrite(default="lots")).startswith(
        "DW1000 creditlimit: default: 'lots' is not a number; write digits such as 1500"
    )
    flags = TransformWrite(value_map=[("No", "nope")], unmatched_dataverse="true")
    assert _refused(store, "creditonhold", flags) == (
        "DW1000 creditonhold: value map pair 1, Dataverse value: 'nope' is not a boolean; "
        "write true or false"
    )
    empty = TransformWrite(value_map=[("No", "")])
    assert "value map pair 1, Dataverse value: is empty" in _refused(store, "creditonhold", empty)
    # Two F&O values on one Dataverse value cannot be read backwards: the map must be one-way
    lossy = TransformWrite(value_map=[("No", "false"), ("Hold", "true"), ("Yes", "true")])
    problem = _refused(store, "creditonhold", lossy)
    assert problem.startswith("DW5003") and "the value map is not invertible" in problem
    assert "DW1000 field: 'accountnumber' is not a field of" in _refused(
        store, "accountnumber", COUNTRIES
    )
    assert _refused(store, "address1_country", COUNTRIES, alias="joe").startswith("DW3004")
    assert _row(store, "creditonhold") == before

    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        fieldmappings.set_field_direction(
            session, admin, the_link(session), ACCOUNTS, "creditonhold", "fo_to_dv"
        )
    _edit(store, "creditonhold", lossy)
    assert _row(store, "creditonhold").transform.startswith("value map No ↔ false, Hold ↔ true")

    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS])
    assert _refused(store, "creditlimit", TransformWrite(default="1")).startswith("DW5012")


def test_reset_goes_back_to_the_solution_and_every_edit_is_logged(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    with store.session() as session:
        linked_world(session, settings, new_database("sqlite"), new_database("sqlite"))
    solution = _row(store, "creditlimit")
    assert (solution.transform, solution.edited) == ("default 0", False)

    _edit(store, "creditlimit", TransformWrite())  # no default at all
    assert (_row(store, "creditlimit").transform, _row(store, "creditlimit").edited) == ("", True)
    _edit(store, "creditlimit", None)
    assert _row(store, "creditlimit") == solution

    with store.session() as session:
        entries = list_activity(
            session,
            the_link(session).fo_environment,
            ActivityFilter(kind="configuration", map_name=ACCOUNTS),
        )
    assert [e.message for e in entries] == [
        "Field creditlimit ↔ creditlimit: transform none → default 0 (the solution's)",
        "Field creditlimit ↔ creditlimit: transform default 0 → none",
    ]
    assert entries[0].actor_label == ADMIN
