"""A link end to end through the services and the worker: apply solution, run with initial sync,
live changes, pause/resume with a queue, stop — with data stores on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from dualwrite.control.models import DualWriteLink
from dualwrite.control.store import ControlStore
from dualwrite.engine.worker import Worker
from dualwrite.errors import DualWriteError
from dualwrite.link import links, tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import add_user, linked_world

ACCOUNTS = "Customers V3 (accounts)"


@pytest.fixture
def world(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> tuple[ControlStore, str, str]:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF", "DEMF"], customers=40)
    return store, fo_url, dv_url


def _link(session) -> DualWriteLink:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return session.scalars(select(DualWriteLink)).one()


def _states(store: ControlStore) -> dict[str, str]:
    with store.session() as session:
        return {m.name: m.state for m in _link(session).table_maps}


def _admin(session):  # type: ignore[no-untyped-def]
    from dualwrite.identity.directory import get_user

    return get_user(session, "admin@contoso.onmicrosoft.com")


def _ticks(worker: Worker, n: int = 6) -> None:
    for _ in range(n):
        worker.tick()


def _count(url: str, sql: str) -> int:
    from dualwrite.databases import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def test_run_with_initial_sync_then_live_then_pause_resume_stop(
    world: tuple[ControlStore, str, str],
) -> None:
    store, fo_url, dv_url = world
    assert set(_states(store).values()) == {"Not running"}
    with store.session() as session:
        started = tablemaps.run_maps(
            session, _admin(session), _link(session), [ACCOUNTS], initial_sync=True
        )
        # Dependent maps run first, in dependency order.
        assert [m.name for m in started] == [
            "Currencies (transactioncurrencies)",
            "Legal entities (cdm_companies)",
            "Payment terms (msdyn_paymentterms)",
            "Customer groups (msdyn_customergroups)",
            ACCOUNTS,
        ]
    worker = Worker(store)
    try:
        _ticks(worker)
        states = _states(store)
        assert states[ACCOUNTS] == "Running"
        assert states["Vendors V2 (msdyn_vendors)"] == "Not running"
        assert _count(dv_url, "SELECT count(*) FROM account") == 20  # USMF only

        with store.session() as session:
            link = _link(session)
            accounts = next(m for m in link.table_maps if m.name == ACCOUNTS)
            assert (accounts.progress_done, accounts.progress_total) == (40, 40)

        from dualwrite.databases import make_engine

        fo_engine = make_engine(fo_url)
        with fo_engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE customersv3 SET addresscity = 'Live' WHERE customeraccount = 'US-000001' AND dataareaid = 'USMF'"
                )
            )
        _ticks(worker, 2)
        assert _count(dv_url, "SELECT count(*) FROM account WHERE address1_city = 'Live'") == 1

        with store.session() as session:
            tablemaps.pause_maps(session, _admin(session), _link(session), [ACCOUNTS])
        with fo_engine.begin() as conn:
            conn.execute(
                text("UPDATE customersv3 SET addresscity = 'Queued' WHERE dataareaid = 'USMF'")
            )
        _ticks(worker, 2)
        assert _count(dv_url, "SELECT count(*) FROM account WHERE address1_city = 'Queued'") == 0
        with store.session() as session:
            tablemaps.resume_maps(session, _admin(session), _link(session), [ACCOUNTS])
        assert _states(store)[ACCOUNTS] == "Resuming"
        _ticks(worker, 3)
        assert _states(store)[ACCOUNTS] == "Running"
        assert _count(dv_url, "SELECT count(*) FROM account WHERE address1_city = 'Queued'") == 20

        with store.session() as session:
            tablemaps.stop_maps(session, _admin(session), _link(session), [ACCOUNTS])
            with pytest.raises(DualWriteError) as err:
                tablemaps.pause_maps(
                    session,
                    _admin(session),
                    _link(session),
                    [ACCOUNTS, "Currencies (transactioncurrencies)"],
                )
            assert err.value.code == "DW5002"
        fo_engine.dispose()
    finally:
        worker.close()


def test_only_tenant_admins_link_and_add_maps_and_operators_run(
    world: tuple[ControlStore, str, str],
) -> None:
    store, _, _ = world
    with store.session() as session:
        admin = _admin(session)
        plain = add_user(session, admin, "pat")
        link = _link(session)
        with pytest.raises(DualWriteError) as err:
            links.apply_default_solutions(session, plain, link)
        assert err.value.status == 403
        with pytest.raises(DualWriteError) as err:
            tablemaps.run_maps(session, plain, link, [ACCOUNTS])
        assert err.value.status == 403
        with pytest.raises(DualWriteError) as err:
            tablemaps.run_maps(session, admin, link, ["Nope"])
        assert err.value.code == "DW5005"
