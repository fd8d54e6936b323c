"""Live sync through NATS JetStream (engine/stream.py, engine/jetstream.py): batches on the wire
keep their values, a batch delivered twice or overlapping is applied once, a gap makes the
source stage read again, and NATS away stops nothing from being caught up later."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from backends import require_nats
from dualwrite.engine.applystage import Batch
from dualwrite.engine.jetstream import JetStream, link_key
from dualwrite.engine.stream import decode, encode, split
from dualwrite.engine.sync import Link
from dualwrite.engine.syncstate import change_counts
from dualwrite.errors import DualWriteError
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.model import TableMap
from dualwrite.maps.validate import validate, with_dependencies
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo
from netproxy import TcpProxy

MAPS: dict[str, TableMap] = {
    m.name: m for m in validate(default_solutions(), fo.metadata, dv.metadata)
}
ACCOUNTS = MAPS["Customers V3 (accounts)"]
CHAIN = [m.name for m in with_dependencies(list(MAPS.values()), [ACCOUNTS.name])]


def _jetstream(url: str, fo_url: str, dv_url: str) -> JetStream:
    return JetStream(url, link_key(fo_url, dv_url), MAPS)


@pytest.fixture
def stores(backend: str, new_database: Callable[[str], str]) -> tuple[str, str]:
    fo_url, dv_url = new_database(backend), new_database(backend)
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=8)
    return fo_url, dv_url


@contextmanager
def _linked(stores: tuple[str, str], url: str) -> Iterator[Link]:
    stream = _jetstream(url, *stores)
    link = Link(*stores, frozenset({"USMF"}), list(MAPS.values()), stream=stream)
    try:
        for name in CHAIN:
            link.initial_sync(MAPS[name], "fo")
        yield link
    finally:
        stream.forget()
        link.close()


def _settle(link: Link) -> None:
    for _ in range(3):
        for name in CHAIN:
            link.sync_until_idle(MAPS[name])


def _accounts(link: Link) -> dict[str, str]:
    with link.dv.connect() as conn:
        return dict(conn.execute(select(dv.account.c.accountnumber, dv.account.c.name)).all())


def _rename(link: Link, account: str, name: str) -> None:
    with link.fo.begin() as conn:
        conn.execute(
            update(fo.customersv3)
            .where(fo.customersv3.c.customeraccount == account)
            .values(organizationname=name)
        )


def test_a_batch_on_the_wire_keeps_every_value(stores: tuple[str, str]) -> None:
    link = Link(*stores, frozenset({"USMF"}), list(MAPS.values()))
    try:
        for name in CHAIN:
            link.initial_sync(MAPS[name], "fo")
        _rename(link, "US-000001", "Ünïcode & 'quotes' — fine")
        cursor_key = (ACCOUNTS.name, "fo_to_dv")
        link.sync_batch(ACCOUNTS, "fo_to_dv")  # the cursor exists from here
        _rename(link, "US-000001", "Again")
        batch = link._next_batch(ACCOUNTS, "fo_to_dv", link._cursors[cursor_key], None)
        assert isinstance(batch, Batch) and batch.changes
        back = decode(encode(batch), MAPS)
        assert back == batch
        assert isinstance(back.changes[0].row["creditlimit"], Decimal)  # type: ignore[index]
        parts = split(batch, 1) if len(batch.changes) > 1 else [batch]
        assert parts[0].position == batch.position and parts[-1].upto == batch.upto
    finally:
        link.close()


def test_live_sync_through_jetstream_applies_each_change_once(stores: tuple[str, str]) -> None:
    url = require_nats()
    with _linked(stores, url) as link:
        _settle(link)
        with link.dv.connect() as conn:
            before = change_counts(conn, ACCOUNTS.name, "fo_to_dv")
        for n in range(5):
            _rename(link, "US-000002", f"Name {n}")
        _rename(link, "US-000003", "Other")
        _settle(link)
        assert _accounts(link)["US-000002"] == "Name 4"
        assert _accounts(link)["US-000003"] == "Other"
        with link.dv.connect() as conn:
            after = change_counts(conn, ACCOUNTS.name, "fo_to_dv")
        assert after[0] - before[0] == 6  # six changes taken, once each


def test_a_batch_delivered_twice_or_overlapping_is_applied_once(stores: tuple[str, str]) -> None:
    url = require_nats()
    with _linked(stores, url) as link:
        _settle(link)
        assert link.stream is not None
        _rename(link, "US-000004", "Once")
        key = (ACCOUNTS.name, "fo_to_dv")
        cursor = link._cursors[key]
        batch = link._next_batch(ACCOUNTS, "fo_to_dv", cursor, None)
        assert isinstance(batch, Batch)
        with link.dv.connect() as conn:
            before = change_counts(conn, ACCOUNTS.name, "fo_to_dv")
        link.stream.send(batch)
        link.stream.send(batch)  # redelivered, as after a crash between apply and ack
        link.stream.send(replace(batch, position=batch.position))  # overlapping
        cursor.store(batch.upto)
        link.sync_until_idle(ACCOUNTS)
        with link.dv.connect() as conn:
            after = change_counts(conn, ACCOUNTS.name, "fo_to_dv")
        assert _accounts(link)["US-000004"] == "Once"
        assert after[0] - before[0] == len(batch.changes)  # counted once


def test_a_gap_makes_the_source_stage_read_again(stores: tuple[str, str]) -> None:
    url = require_nats()
    with _linked(stores, url) as link:
        _settle(link)
        assert link.stream is not None
        _rename(link, "US-000005", "First")
        key = (ACCOUNTS.name, "fo_to_dv")
        cursor = link._cursors[key]
        first = link._next_batch(ACCOUNTS, "fo_to_dv", cursor, None)
        assert isinstance(first, Batch)
        cursor.store(first.upto)
        _rename(link, "US-000006", "Second")
        second = link._next_batch(ACCOUNTS, "fo_to_dv", cursor, None)
        assert isinstance(second, Batch)
        link.stream.send(second)  # the first never reached the stream
        cursor.store(second.upto)
        _settle(link)
        assert _accounts(link)["US-000005"] == "First"
        assert _accounts(link)["US-000006"] == "Second"


def test_nats_unreachable_at_start_is_a_clear_error() -> None:
    with pytest.raises(DualWriteError) as err:
        JetStream("nats://127.0.0.1:1", "x", MAPS)
    assert err.value.code == "DW5017"
    assert "nats://127.0.0.1:1" in err.value.message


def test_nats_lost_while_running_loses_nothing(stores: tuple[str, str]) -> None:
    require_nats()
    proxy = TcpProxy(require_nats())
    try:
        with _linked(stores, f"nats://127.0.0.1:{proxy.port}") as link:
            _settle(link)
            proxy.cut()
            for n in range(3):
                _rename(link, "US-000007", f"While away {n}")
            failed = 0
            for _ in range(2):  # each attempt fails clearly, nothing is applied or lost
                try:
                    link.sync_batch(ACCOUNTS, "fo_to_dv")
                except DualWriteError as error:
                    assert error.code == "DW5017"
                    failed += 1
            assert failed >= 1
            assert _accounts(link)["US-000007"] != "While away 2"
            proxy.restore()
            for _ in range(40):  # bounded: the client reconnects within a few seconds
                try:
                    _settle(link)
                    break
                except DualWriteError:
                    asyncio.run(asyncio.sleep(0.25))
            assert _accounts(link)["US-000007"] == "While away 2"
            with link.fo.connect() as conn:
                customers = conn.scalar(select(func.count()).select_from(fo.customersv3))
            assert len(_accounts(link)) == customers  # nothing lost, nothing doubled
    finally:
        proxy.close()
