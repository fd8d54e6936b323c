"""Conflicts and convergence: random writes on both sides, pauses, crashes and restarts of the
engine; afterwards both sides hold the same customers, nothing lost, nothing doubled. Every
test runs with the stages handing batches over directly and through NATS JetStream."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select, text, update

from backends import require_nats
from dualwrite.engine.jetstream import JetStream, link_key
from dualwrite.engine.sync import Link
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.validate import validate, with_dependencies
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo

MAPS = {m.name: m for m in validate(default_solutions(), fo.metadata, dv.metadata)}
ACCOUNTS = MAPS["Customers V3 (accounts)"]
# Customers with every map they look up, in dependency order.
CHAIN = [m.name for m in with_dependencies(list(MAPS.values()), ["Customers V3 (accounts)"])]


@pytest.fixture(params=["direct", "jetstream"])
def make_link(request: pytest.FixtureRequest) -> Iterator[Callable[..., Link]]:
    """`Link(...)` as the tests build it, with the stream of this run between the stages."""
    streams: list[JetStream] = []

    def make(fo_url: str, dv_url: str, *args: Any, **kwargs: Any) -> Link:
        if request.param == "jetstream":
            streams.append(JetStream(require_nats(), link_key(fo_url, dv_url), MAPS))
            kwargs["stream"] = streams[-1]
        return Link(fo_url, dv_url, *args, **kwargs)

    yield make
    if streams:  # its consumers and batches go with the test's stores
        cleaner = JetStream(require_nats(), streams[0].link_key, MAPS)
        cleaner.forget()
        cleaner.close()


@pytest.fixture
def stores(backend: str, new_database: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    fo_url, dv_url = new_database(backend), new_database(backend)
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF"], customers=6)
    link = Link(fo_url, dv_url, frozenset({"USMF"}), list(MAPS.values()), batch_size=4)
    for name in CHAIN:
        link.initial_sync(MAPS[name], "fo")
    link.close()
    yield fo_url, dv_url


def _snapshot(link: Link) -> tuple[dict[str, tuple[object, ...]], dict[str, tuple[object, ...]]]:
    with link.fo.connect() as conn:
        fo_rows = {
            r.customeraccount: (r.organizationname, Decimal(r.creditlimit), r.addresscity)
            for r in conn.execute(select(fo.customersv3))
        }
    with link.dv.connect() as conn:
        dv_rows = {
            r.accountnumber: (r.name, Decimal(r.creditlimit), r.address1_city)
            for r in conn.execute(select(dv.account))
        }
    return fo_rows, dv_rows


def _settle(link: Link) -> None:
    for _ in range(3):
        for name in CHAIN:
            link.sync_until_idle(MAPS[name])


def test_both_sides_change_one_record_newest_wins_and_both_versions_are_kept(
    stores: tuple[str, str], make_link: Callable[..., Link]
) -> None:
    link = make_link(*stores, frozenset({"USMF"}), list(MAPS.values()))
    try:
        with link.fo.begin() as conn:
            conn.execute(
                text(
                    "UPDATE customersv3 SET organizationname = 'F&O edit' WHERE customeraccount = 'US-000001'"
                )
            )
        time.sleep(0.01)
        with link.dv.begin() as conn:
            conn.execute(
                text(
                    "UPDATE account SET name = 'CRM edit, later' WHERE accountnumber = 'US-000001'"
                )
            )
        _settle(link)
        fo_rows, dv_rows = _snapshot(link)
        assert fo_rows["US-000001"][0] == dv_rows["US-000001"][0] == "CRM edit, later"
        with link.dv.connect() as conn:
            conflict = conn.execute(
                text("SELECT winner, rule, fo_version, dataverse_version FROM dw_sync_conflicts")
            ).one()
        assert (conflict.winner, conflict.rule) == ("dataverse", "newest change")
        assert "F&O edit" in conflict.fo_version and "CRM edit, later" in conflict.dataverse_version
    finally:
        link.close()


def test_update_on_one_side_against_delete_on_the_other(
    stores: tuple[str, str], make_link: Callable[..., Link]
) -> None:
    link = make_link(*stores, frozenset({"USMF"}), list(MAPS.values()))
    try:
        with link.dv.begin() as conn:
            conn.execute(text("DELETE FROM account WHERE accountnumber = 'US-000002'"))
        time.sleep(0.01)
        with link.fo.begin() as conn:  # newer: the record survives on both sides
            conn.execute(
                text(
                    "UPDATE customersv3 SET addresscity = 'Kept' WHERE customeraccount = 'US-000002'"
                )
            )
        _settle(link)
        fo_rows, dv_rows = _snapshot(link)
        assert fo_rows == dv_rows
        assert dv_rows["US-000002"][2] == "Kept"
    finally:
        link.close()


operations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "fo_update",
                "dv_update",
                "fo_insert",
                "fo_delete",
                "dv_delete",
                "sync",
                "crash",
                "pause",
            ]
        ),
        st.integers(min_value=1, max_value=8),
    ),
    min_size=1,
    max_size=20,
)


def _write(link: Link, kind: str, n: int, serial: list[int]) -> None:
    account = f"US-{n:06d}"
    serial[0] += 1
    value = serial[0]
    engine: Engine = link.fo if kind.startswith("fo") else link.dv
    with engine.begin() as conn:
        if kind == "fo_update":
            conn.execute(
                update(fo.customersv3)
                .where(fo.customersv3.c.customeraccount == account)
                .values(creditlimit=value, addresscity=f"f{value}")
            )
        elif kind == "dv_update":
            conn.execute(
                update(dv.account)
                .where(dv.account.c.accountnumber == account)
                .values(creditlimit=value, address1_city=f"d{value}")
            )
        elif kind == "fo_delete":
            conn.execute(delete(fo.customersv3).where(fo.customersv3.c.customeraccount == account))
        elif kind == "dv_delete":
            conn.execute(delete(dv.account).where(dv.account.c.accountnumber == account))
        elif kind == "fo_insert":
            exists = conn.scalar(
                select(fo.customersv3.c.recid).where(fo.customersv3.c.customeraccount == account)
            )
            if exists is None:
                conn.execute(
                    insert(fo.customersv3).values(
                        dataareaid="USMF",
                        customeraccount=account,
                        organizationname=f"Re {value}",
                        customergroupid="10",
                        salescurrencycode="USD",
                        creditlimit=value,
                    )
                )


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_random_writes_pauses_and_crashes_converge(
    stores: tuple[str, str], make_link: Callable[..., Link], ops: list[tuple[str, int]]
) -> None:
    link = make_link(*stores, frozenset({"USMF"}), list(MAPS.values()), batch_size=3)
    serial = [0]
    paused = False
    try:
        for kind, n in ops:
            if kind == "sync" and not paused:
                for direction in ("fo_to_dv", "dv_to_fo"):
                    link.sync_batch(ACCOUNTS, direction)  # type: ignore[arg-type]
            elif kind == "crash":  # the engine's memory is gone; only the databases remain
                link.close()
                link = make_link(*stores, frozenset({"USMF"}), list(MAPS.values()), batch_size=3)
                paused = False
            elif kind == "pause":
                paused = not paused
            elif kind != "sync":
                _write(link, kind, n, serial)
                time.sleep(0.002)
        _settle(link)
        fo_rows, dv_rows = _snapshot(link)
        assert fo_rows == dv_rows
        with link.dv.connect() as conn:
            numbers = [r[0] for r in conn.execute(select(dv.account.c.accountnumber))]
        assert len(numbers) == len(set(numbers))
    finally:
        link.close()
