"""Synchronous dual-write (engine/synchronous.py) on every backend: a write and its mapped write
commit together or not at all, and the asynchronous path neither applies nor counts it again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select, text, update

from dualwrite.databases import make_engine
from dualwrite.engine.sync import Link
from dualwrite.engine.synchronous import MappedWrites, apply_mapped, log_head
from dualwrite.engine.syncstate import change_counts, sync_applied
from dualwrite.errors import DualWriteError
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.model import TableMap
from dualwrite.maps.validate import validate, with_dependencies
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo

MAPS: dict[str, TableMap] = {
    m.name: m for m in validate(default_solutions(), fo.metadata, dv.metadata)
}
ACCOUNTS = "Customers V3 (accounts)"
CHAIN = [m.name for m in with_dependencies(list(MAPS.values()), [ACCOUNTS])]
GROUPS = "Customer groups (msdyn_customergroups)"


@pytest.fixture
def link(backend: str, new_database: Callable[[str], str]) -> Iterator[Link]:
    fo_url, dv_url = new_database(backend), new_database(backend)
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=5)
    the_link = Link(fo_url, dv_url, frozenset({"USMF"}), list(MAPS.values()))
    for name in CHAIN:
        the_link.initial_sync(MAPS[name], "fo")
    yield the_link
    the_link.close()


def _customer(account: str, group: str = "10") -> dict[str, Any]:
    return {
        "dataareaid": "USMF",
        "customeraccount": account,
        "organizationname": f"Synchronous {account}",
        "customergroupid": group,
        "salescurrencycode": "USD",
    }


def _unit(link: Link, write: Callable[[Connection], None], maps: list[str] = CHAIN) -> MappedWrites:
    """What an environment API does: its writes and their mapped writes, the source first."""
    with link.fo.connect() as source:
        trans = source.begin()
        try:
            since = log_head(source)
            write(source)
            tmaps = [MAPS[n] for n in maps]
            mapped = apply_mapped(
                source, link.dv, "fo_to_dv", tmaps, link.by_name, link.legal_entities, since
            )
        except BaseException:
            trans.rollback()
            raise
        trans.commit()
    mapped.commit()
    return mapped


def _accounts(link: Link, number: str) -> list[Any]:
    with link.dv.connect() as conn:
        query = select(dv.account.c.name).where(dv.account.c.accountnumber == number)
        return list(conn.scalars(query))


def _catch_up(link: Link) -> None:
    for name in CHAIN:
        link.sync_until_idle(MAPS[name])


def test_a_write_is_on_the_other_side_when_it_commits_and_never_applied_twice(
    link: Link,
) -> None:
    _catch_up(link)  # every map has a live position
    before = _counts(link)
    mapped = _unit(link, lambda c: c.execute(insert(fo.customersv3).values(_customer("S-1"))))
    assert (mapped.applied, mapped.maps) == (1, (ACCOUNTS,))
    assert _accounts(link, "S-1") == ["Synchronous S-1"]  # before any worker pass
    after_sync = _counts(link)
    assert after_sync[0] - before[0] == 1 and after_sync[1] - before[1] == 1  # taken, applied
    # The worker then reads the captured change and leaves it out: nothing counted twice.
    _catch_up(link)
    assert _counts(link) == after_sync
    with link.dv.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(sync_applied)) == 0
    # A plain SQL write afterwards still goes the asynchronous way.
    with link.fo.begin() as conn:
        conn.execute(
            update(fo.customersv3)
            .where(fo.customersv3.c.customeraccount == "S-1")
            .values(organizationname="Renamed by SQL")
        )
    _catch_up(link)
    assert _accounts(link, "S-1") == ["Renamed by SQL"]
    assert _counts(link)[1] == after_sync[1] + 1


def test_several_writes_of_one_record_in_a_unit_apply_once(link: Link) -> None:
    _catch_up(link)
    before = _counts(link)

    def write(conn: Connection) -> None:
        conn.execute(insert(fo.customersv3).values(_customer("S-2")))
        for name in ("Second", "Third"):
            conn.execute(
                update(fo.customersv3)
                .where(fo.customersv3.c.customeraccount == "S-2")
                .values(organizationname=name)
            )

    assert _unit(link, write).applied == 1
    assert _accounts(link, "S-2") == ["Third"]
    counts = _counts(link)
    assert (counts[0] - before[0], counts[1] - before[1], counts[3] - before[3]) == (3, 1, 2)
    _catch_up(link)
    assert _counts(link) == counts


def test_a_missing_lookup_rolls_back_both_sides_and_names_the_map(link: Link) -> None:
    """The customer's new group is written in the same unit, but its map does not run
    synchronously: the account cannot find it, so neither the group nor the customer stays."""
    _catch_up(link)

    def write(conn: Connection) -> None:
        conn.execute(
            insert(fo.customergroups).values(
                dataareaid="USMF", customergroupid="NEW", description="New group"
            )
        )
        conn.execute(insert(fo.customersv3).values(_customer("S-3", group="NEW")))

    without_groups = [n for n in CHAIN if n != GROUPS]
    with pytest.raises(DualWriteError) as err:
        _unit(link, write, without_groups)
    assert err.value.code == "DW5014"
    assert f"Writes to table map '{ACCOUNTS}' failed" in err.value.message
    assert "Unable to write data to entity account" in err.value.message
    with link.fo.connect() as conn:
        assert (
            conn.scalar(text("SELECT count(*) FROM customergroups WHERE customergroupid = 'NEW'"))
            == 0
        )
        assert (
            conn.scalar(text("SELECT count(*) FROM customersv3 WHERE customeraccount = 'S-3'")) == 0
        )
    assert _accounts(link, "S-3") == []
    # With the groups map running synchronously too, the same unit goes through.
    assert _unit(link, write).applied == 2
    assert _accounts(link, "S-3") == ["Synchronous S-3"]


def test_the_other_side_down_rolls_back_the_write(link: Link) -> None:
    down = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/dataverse")
    with link.fo.connect() as source:
        trans = source.begin()
        since = log_head(source)
        source.execute(insert(fo.customersv3).values(_customer("S-4")))
        with pytest.raises(DualWriteError) as err:
            apply_mapped(
                source, down, "fo_to_dv", [MAPS[ACCOUNTS]], link.by_name, link.legal_entities, since
            )
        trans.rollback()
    down.dispose()
    assert err.value.code == "DW2002"
    with link.fo.connect() as conn:
        assert (
            conn.scalar(text("SELECT count(*) FROM customersv3 WHERE customeraccount = 'S-4'")) == 0
        )


def test_more_than_a_thousand_records_are_refused(link: Link) -> None:
    rows = [_customer(f"B-{i:04d}") for i in range(1001)]
    with pytest.raises(DualWriteError) as err:
        _unit(link, lambda c: c.execute(insert(fo.customersv3), rows))
    assert (err.value.code, "limit is 1000") == ("DW5015", "limit is 1000")
    with link.fo.connect() as conn:
        assert (
            conn.scalar(text("SELECT count(*) FROM customersv3 WHERE customeraccount LIKE 'B-%'"))
            == 0
        )


def _counts(link: Link) -> tuple[int, int, int, int]:
    with link.dv.connect() as conn:
        return change_counts(conn, ACCOUNTS, "fo_to_dv")
