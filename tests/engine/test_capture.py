"""Change capture on every backend: what triggers record, what they skip, how it reads back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    delete,
    insert,
    text,
    update,
)

from dualwrite.databases import make_engine
from dualwrite.engine.capture import (
    ChangeReader,
    engine_origin,
    install_capture,
    installed_tables,
    uninstall_capture,
)

meta = MetaData()
items = Table(
    "items",
    meta,
    Column("company", String(4), primary_key=True),
    Column("code", String(20), primary_key=True),
    Column("label", String(100)),
    Column("price", Numeric(32, 6)),
    Column("active", Boolean, nullable=False),
    Column("count", Integer),
    Column("changed", DateTime(timezone=True)),
)
other = Table("other", meta, Column("id", Integer, primary_key=True), Column("v", String(10)))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    meta.create_all(eng)
    install_capture(eng, [items])
    yield eng
    eng.dispose()


def _read(engine: Engine, after: int = 0) -> tuple[list, int]:  # type: ignore[type-arg]
    return ChangeReader(engine, [items]).read(after)


ROW = {
    "company": "USMF",
    "code": "C-1",
    "label": 'O\'Neil & Söhne — "quoted"',
    "price": Decimal("1234.5"),
    "active": True,
    "count": 7,
    "changed": datetime(2026, 11, 25, 4, 44, 21, tzinfo=UTC),
}


def test_insert_update_delete_are_captured_with_typed_values(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(items), ROW)
    (inserted,), cursor = _read(engine)
    assert (inserted.op, inserted.key, inserted.old_key) == (
        "I",
        {"company": "USMF", "code": "C-1"},
        None,
    )
    assert inserted.row == ROW
    with engine.begin() as conn:
        conn.execute(update(items).values(label=None, active=False, price=Decimal("0.000001")))
    (updated,), cursor = _read(engine, cursor)
    assert updated.op == "U"
    assert updated.old_key == updated.key
    assert updated.row == {**ROW, "label": None, "active": False, "price": Decimal("0.000001")}
    with engine.begin() as conn:
        conn.execute(delete(items))
    (deleted,), cursor = _read(engine, cursor)
    assert (deleted.op, deleted.key["code"], deleted.row) == ("D", "C-1", None)
    assert _read(engine, cursor) == ([], cursor)


def test_changes_read_later_carry_the_current_record(engine: Engine) -> None:
    """Several changes of one record, read at once, all show its state now (or its absence)."""
    with engine.begin() as conn:
        conn.execute(insert(items), ROW)
        conn.execute(update(items).values(count=8))
        conn.execute(insert(items), {**ROW, "code": "gone-later"})
    with engine.begin() as conn:
        conn.execute(delete(items).where(items.c.code == "gone-later"))
    changes, _ = _read(engine)
    assert [(c.op, c.key["code"]) for c in changes] == [
        ("I", "C-1"),
        ("U", "C-1"),
        ("I", "gone-later"),
        ("D", "gone-later"),
    ]
    assert changes[0].row == changes[1].row == {**ROW, "count": 8}
    assert changes[2].row is None


def test_plain_sql_from_any_client_is_captured_and_rollbacks_are_not(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (company, code, label, active) VALUES ('DEMF', 'X', 'sql', :t)"
            ),
            {"t": True},
        )
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(insert(items), {**ROW, "code": "gone"})
        raise RuntimeError("abort")
    changes, _ = _read(engine)
    assert [(c.op, c.key["code"]) for c in changes] == [("I", "X")]


def test_engine_writes_are_not_captured_but_others_are(engine: Engine) -> None:
    with engine.begin() as conn, engine_origin(conn):
        conn.execute(insert(items), {**ROW, "code": "by-engine"})
    with engine.begin() as conn:
        conn.execute(insert(items), {**ROW, "code": "by-user"})
    changes, _ = _read(engine)
    assert [c.key["code"] for c in changes] == ["by-user"]


def test_origin_marker_does_not_leak_into_the_next_transaction(engine: Engine) -> None:
    with engine.connect() as conn:
        with conn.begin(), engine_origin(conn):
            conn.execute(insert(items), {**ROW, "code": "engine"})
        with conn.begin():
            conn.execute(insert(items), {**ROW, "code": "user-same-connection"})
    assert [c.key["code"] for c in _read(engine)[0]] == ["user-same-connection"]


def test_other_tables_move_the_cursor_without_being_returned(engine: Engine) -> None:
    install_capture(engine, [items, other])
    with engine.begin() as conn:
        conn.execute(insert(other), {"id": 1, "v": "a"})
        conn.execute(insert(items), ROW)
        conn.execute(insert(other), {"id": 2, "v": "b"})
    changes, cursor = _read(engine)
    assert [c.table for c in changes] == ["items"]
    assert cursor == changes[0].position + 1


def test_install_is_idempotent_and_uninstall_stops_capture(engine: Engine) -> None:
    install_capture(engine, [items])
    assert installed_tables(engine) == {"items"}
    with engine.begin() as conn:
        conn.execute(insert(items), ROW)
    assert len(_read(engine)[0]) == 1  # one trigger set, not two
    uninstall_capture(engine, [items])
    assert installed_tables(engine) == set()
    with engine.begin() as conn:
        conn.execute(update(items).values(count=8))
    assert len(_read(engine)[0]) == 1


def test_key_change_keeps_the_old_key(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(items), ROW)
        conn.execute(update(items).values(code="C-2"))
    update_change = _read(engine)[0][1]
    assert (update_change.old_key["code"], update_change.key["code"]) == ("C-1", "C-2")
    assert update_change.row is not None
    assert update_change.row["code"] == "C-2"


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_reader_waits_for_an_earlier_transaction_still_in_flight(engine: Engine) -> None:
    """B commits after A allocated a lower position: B's change must wait for A's outcome."""
    reader = ChangeReader(engine, [items])
    a_inserted, b_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def transaction_a(commit: bool) -> None:
        with engine.connect() as conn:
            trans = conn.begin()
            conn.execute(insert(items), {**ROW, "code": "A"})
            a_inserted.set()
            b_done.wait(10)
            outcome["seen_while_a_open"] = reader.read(0)
            trans.commit() if commit else trans.rollback()

    for commit in (True, False):
        with engine.begin() as conn:
            conn.execute(delete(items))
        start = reader.read(0)[1] if commit is False else 0
        a_inserted.clear()
        b_done.clear()
        thread = threading.Thread(target=transaction_a, args=(commit,))
        thread.start()
        assert a_inserted.wait(10)
        with engine.begin() as conn:
            conn.execute(insert(items), {**ROW, "code": "B"})
        b_done.set()
        thread.join(20)
        changes_open, _ = outcome["seen_while_a_open"]  # type: ignore[misc]
        assert all(c.key["code"] != "B" for c in changes_open if c.position > start)
        expected = ["A", "B"] if commit else ["B"]
        # A rolled-back gap is skipped once the database proves nobody can still fill it.
        deadline = time.monotonic() + 10
        while True:
            changes, _ = reader.read(start)
            codes = [c.key["code"] for c in changes if c.op == "I"]
            if codes or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert codes == expected


values = st.fixed_dictionaries(
    {
        "label": st.none() | st.text(max_size=30).filter(lambda s: "\x00" not in s),
        "price": st.none()
        | st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
        "active": st.booleans(),
        "count": st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(row=values)
def test_values_round_trip_through_the_log(engine: Engine, row: dict[str, object]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(items))
        start = ChangeReader(engine, [items]).read(0)[1]
        conn.execute(insert(items), {"company": "USMF", "code": "R", "changed": None, **row})
    change = ChangeReader(engine, [items]).read(start)[0][-1]
    assert change.row is not None
    assert {k: change.row[k] for k in row} == row
