"""Leases on map directions (engine/ownership.py) on a server control store: workers split the
map directions fairly, take over the leases of one that stopped renewing, and give some back
when another joins."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dualwrite.control.models import MapLease, TableMapState, WorkerProcess, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.engine import ownership
from dualwrite.engine.ownership import Ownership
from dualwrite.settings import Settings
from factories import linked_world


@pytest.fixture(params=["postgresql", "mariadb"])
def control(
    request: pytest.FixtureRequest, new_database: Callable[[str], str], settings: Settings
) -> Iterator[tuple[ControlStore, list[tuple[int, str]]]]:
    store = ControlStore(new_database(str(request.param)))
    store.upgrade()
    with store.session() as session:
        linked_world(session, settings, new_database("sqlite"), new_database("sqlite"))
        ids = list(session.scalars(select(TableMapState.id).order_by(TableMapState.id)))[:3]
    yield store, [(i, d) for i in ids for d in ("fo_to_dv", "dv_to_fo")]
    store.dispose()


def _expire(store: ControlStore, worker: str) -> None:
    """What time does to a worker killed with SIGKILL: its heartbeat and leases age."""
    past = utcnow() - timedelta(seconds=ownership.LEASE_SECONDS + 1)
    with store.session() as session:
        session.execute(
            update(WorkerProcess).where(WorkerProcess.id == worker).values(heartbeat_at=past)
        )
        session.execute(
            update(MapLease).where(MapLease.worker_id == worker).values(expires_at=past)
        )


def test_leases_spread_fail_over_and_rebalance(
    control: tuple[ControlStore, list[tuple[int, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, wanted = control
    monkeypatch.setattr(ownership, "RENEW_SECONDS", 0.0)  # every call renews and rebalances
    a, b = Ownership(store, "a", "nats://x"), Ownership(store, "b", "nats://x")
    a.register()
    b.register()
    first_a = a.owned(wanted)  # b is alive too: a takes only its share
    first_b = b.owned(wanted)
    assert len(first_a) == len(first_b) == 3 and not first_a & first_b
    assert a.owned(wanted) == first_a  # renewing keeps them

    _expire(store, "b")  # b died
    assert a.owned(wanted) == set(wanted)  # a takes over b's expired leases

    c = Ownership(store, "c", "nats://x")
    c.register()
    assert c.owned(wanted) == set()  # all leased, none expired
    a.owned(wanted)  # a sees c alive: gives back what is over its share
    assert len(c.owned(wanted)) == 3
    assert len(a.owned(wanted)) == 3
    with store.session() as session:
        owners = list(session.scalars(select(MapLease.worker_id)))
    assert sorted(owners) == ["a", "a", "a", "c", "c", "c"]  # never two owners of one

    a.stop()  # a clean stop hands its leases back at once
    assert len(c.owned(wanted)) == 6

    long_ago = utcnow() - ownership.FORGET_AFTER - timedelta(minutes=1)
    with store.session() as session:  # b was killed a day ago and holds nothing
        session.execute(
            update(WorkerProcess).where(WorkerProcess.id == "b").values(heartbeat_at=long_ago)
        )
    Ownership(store, "d", "nats://x").register()  # a worker starting forgets it
    with store.reading() as session:
        assert sorted(session.scalars(select(WorkerProcess.id))) == ["c", "d"]
