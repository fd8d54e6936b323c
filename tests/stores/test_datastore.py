"""Preparing data stores on every backend: create, adopt a full schema, refuse a partial one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from dualwrite.databases import make_engine, translate_errors
from dualwrite.errors import DualWriteError
from dualwrite.stores import dataverse, fo
from dualwrite.stores.datastore import (
    Side,
    ensure_legal_entities,
    legal_entities,
    metadata_for,
    prepare_data_store,
    row_counts,
)


@pytest.mark.parametrize("side", list(Side))
def test_empty_database_gets_the_schema(database_url: str, side: Side) -> None:
    report = prepare_data_store(database_url, side)
    assert report.created
    assert report.status == "created"
    assert set(report.tables) == set(metadata_for(side).tables)
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    expected = fo.metadata if side is Side.FO else dataverse.metadata
    assert set(expected.tables) <= tables
    assert all(n == 0 for n in row_counts(database_url, side).values())


def test_existing_store_is_adopted_with_its_rows(database_url: str) -> None:
    prepare_data_store(database_url, Side.FO)
    ensure_legal_entities(database_url, ["USMF"])
    report = prepare_data_store(database_url, Side.FO)
    assert not report.created
    assert report.status == "existing"
    assert [e.id for e in legal_entities(database_url)] == ["USMF"]
    assert legal_entities(database_url)[0].name == "Contoso Entertainment System USA"


def test_unrelated_tables_stay_and_the_schema_is_added(database_url: str) -> None:
    engine = make_engine(database_url)
    other = MetaData()
    Table("invoices_archive", other, Column("id", Integer, primary_key=True))
    other.create_all(engine)
    try:
        assert prepare_data_store(database_url, Side.DATAVERSE).created
        assert "invoices_archive" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_partial_store_is_refused_naming_what_is_missing_and_nothing_is_created(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    partial = MetaData()
    Table(
        "customersv3",
        partial,
        Column("recid", Integer, primary_key=True),
        Column("dataareaid", String(4)),
    )
    partial.create_all(engine)
    try:
        with pytest.raises(DualWriteError) as err:
            prepare_data_store(database_url, Side.FO)
        assert err.value.code == "DW2003"
        assert "legalentities" in err.value.message
        assert "customersv3.customeraccount" in err.value.message
        assert set(inspect(engine).get_table_names()) == {"customersv3"}
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/x", "DW2002"),
        ("mysql+pymysql://root@127.0.0.1:1/x", "DW2002"),
        ("postgresql://", "DW2001"),
        ("sqlite://", "DW2001"),
        ("mongodb://localhost/x", "DW2001"),
        ("::::", "DW2001"),
    ],
)
def test_unusable_urls_get_clear_errors(url: str, code: str) -> None:
    with pytest.raises(DualWriteError) as err:
        prepare_data_store(url, Side.FO)
    assert err.value.code == code
    assert err.value.hint


def test_a_file_that_is_not_a_database_is_dw2002(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("meeting notes, not a database\n" * 200)
    with pytest.raises(DualWriteError) as err:
        prepare_data_store(f"sqlite:///{notes}", Side.FO)
    assert (err.value.code, err.value.status) == ("DW2002", 503)
    assert "file is not a database" in err.value.message
    assert str(notes) in err.value.message


def test_a_store_missing_a_table_is_dw2002_and_value_errors_stay_as_they_are(
    database_url: str,
) -> None:
    """A missing table is OperationalError on SQLite but ProgrammingError on the servers: both
    make the store unusable. A key taken is the caller's to handle (the engine logs the record)."""
    metadata = MetaData()
    keys = Table("keys", metadata, Column("id", Integer, primary_key=True))
    engine = make_engine(database_url)
    try:
        with translate_errors(engine.url), engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(insert(keys).values(id=1))
        with pytest.raises(IntegrityError), translate_errors(engine.url), engine.begin() as conn:
            conn.execute(insert(keys).values(id=1))
        missing = text("SELECT id FROM no_such_table")
        unusable = pytest.raises(DualWriteError)
        with unusable as err, translate_errors(engine.url), engine.connect() as conn:
            conn.execute(missing)
        assert err.value.code == "DW2002"
        assert "no_such_table" in err.value.message
    finally:
        engine.dispose()


def test_password_is_masked_in_errors() -> None:
    with pytest.raises(DualWriteError) as err:
        prepare_data_store("postgresql+psycopg://bob:hunter2@127.0.0.1:1/x", Side.FO)
    assert "hunter2" not in err.value.message
    assert "***" in err.value.message


def test_plain_sql_sees_lowercase_unquoted_names(database_url: str) -> None:
    prepare_data_store(database_url, Side.FO)
    ensure_legal_entities(database_url, ["DEMF"])
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT legalentityid FROM legalentities")).scalar() == "DEMF"
    finally:
        engine.dispose()


def test_extra_columns_and_tables_do_not_stop_adoption(database_url: str) -> None:
    prepare_data_store(database_url, Side.DATAVERSE)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE account ADD COLUMN new_loyaltytier VARCHAR(20)"))
            conn.execute(text("CREATE TABLE new_customtable (id INTEGER PRIMARY KEY)"))
    finally:
        engine.dispose()
    assert prepare_data_store(database_url, "dataverse").status == "existing"


def test_a_missing_column_alone_is_refused(database_url: str) -> None:
    prepare_data_store(database_url, Side.FO)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE contactpersons"))
            conn.execute(text("CREATE TABLE contactpersons (recid INTEGER PRIMARY KEY)"))
        with pytest.raises(DualWriteError) as err:
            prepare_data_store(database_url, Side.FO)
        assert err.value.code == "DW2003"
        assert "contactpersons.contactpersonid" in err.value.message
        assert "missing tables" not in err.value.message
    finally:
        engine.dispose()


def test_both_sides_can_share_one_database(database_url: str) -> None:
    prepare_data_store(database_url, Side.FO)
    # The table names of the two sides never collide, so one database can hold both stores.
    assert prepare_data_store(database_url, Side.DATAVERSE).created
    assert prepare_data_store(database_url, Side.FO).status == "existing"


def test_reading_an_unprepared_store_names_the_problem(database_url: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: legal_entities(database_url),
        lambda: row_counts(database_url, Side.DATAVERSE),
        lambda: ensure_legal_entities(database_url, ["USMF"]),
    ]
    for call in calls:
        with pytest.raises(DualWriteError) as err:
            call()
        assert err.value.code == "DW1000"
        assert "prepare the data store first" in err.value.message


def test_legal_entities_get_their_names_once(database_url: str) -> None:
    prepare_data_store(database_url, Side.FO)
    ensure_legal_entities(database_url, ["USMF", "DEMF", "GBSI", "ZZ1", "USMF"])
    entities = ensure_legal_entities(database_url, ["DEMF"])
    assert [(e.id, e.name) for e in entities] == [
        ("DEMF", "Contoso Entertainment System Germany"),
        ("GBSI", "Contoso Entertainment System UK"),
        ("USMF", "Contoso Entertainment System USA"),
        ("ZZ1", "Company ZZ1"),
    ]
    with pytest.raises(DualWriteError) as err:
        ensure_legal_entities(database_url, ["TOOLONG", "us mf"])
    assert err.value.code == "DW1000"
    assert "'TOOLONG', 'us mf'" in err.value.message
    assert row_counts(database_url, Side.FO)["legalentities"] == 4
