"""Alert settings: N errors within T minutes notify, pause or stop the map, at most once per
window, and what was done is logged — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from backends import require_backend
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.link import overview, tablemaps
from dualwrite.ops import alerts
from dualwrite.ops.activity import ActivityFilter, list_activity
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import add_user, linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"


def _state(store: ControlStore) -> str:
    with store.session() as session:
        return {m.name: m.state for m in the_link(session).table_maps}[ACCOUNTS]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite and PostgreSQL cover the alert rules; the engine itself runs on all three."""
    require_backend(str(request.param))
    return str(request.param)


@pytest.fixture
def running(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> str:
    """Accounts running on the backend; returns the Dataverse URL."""
    if backend == "mariadb":
        pytest.skip(
            "SQLite and PostgreSQL cover the alert rules; the engine is tested on all three"
        )
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        add_user(session, directory.get_user(session, ADMIN), "joe")
    seed_fo(fo_url, legal_entities=["USMF"], customers=6)
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    assert _state(store) == "Running"
    return dv_url


def _break_accounts(dv_url: str, count: int) -> None:
    """Names too long for F&O: each becomes an error of the Dataverse → F&O direction."""
    engine = make_engine(dv_url)
    try:
        with engine.begin() as conn:
            for n in range(1, count + 1):
                conn.execute(
                    text("UPDATE account SET name = :n WHERE accountnumber = :a"),
                    {"n": "x" * (120 + n), "a": f"US-{n:06d}"},
                )
    finally:
        engine.dispose()


def _set(store: ControlStore, action: str, max_errors: int = 3, alias: str = "admin") -> None:
    with store.session() as session:
        actor = directory.get_user(session, f"{alias}@contoso.onmicrosoft.com")
        alerts.set_alert(
            session,
            actor,
            the_link(session),
            ACCOUNTS,
            max_errors=max_errors,
            window_minutes=10,
            action=action,
        )


def _alert_log(store: ControlStore) -> list[str]:
    with store.session() as session:
        entries = list_activity(
            session, the_link(session).fo_environment, ActivityFilter(kind="alert")
        )
        return [e.message for e in entries]


@pytest.mark.parametrize("action", ["notify", "pause", "stop"])
def test_an_alert_fires_its_action_once_per_window(
    store: ControlStore, running: str, action: str
) -> None:
    _set(store, action)
    _break_accounts(running, 2)
    worker_ticks(store, 3)
    assert alerts.evaluate(store) == []  # 2 errors: below the threshold
    _break_accounts(running, 4)
    worker_ticks(store, 3)
    fired = alerts.evaluate(store)
    assert len(fired) == 1
    expected = {"notify": "Running", "pause": "Paused", "stop": "Not running"}[action]
    assert _state(store) == expected
    (message,) = _alert_log(store)
    assert message.startswith("Alert: 4 errors within 10 min (threshold 3) → ")
    assert {
        "notify": "notified",
        "pause": "paused (Running → Paused)",
        "stop": "stopped (Running → Not running)",
    }[action] in message
    assert alerts.evaluate(store) == []  # not again within the window
    later = datetime.now(UTC) + timedelta(minutes=11)
    if action == "notify":  # errors older than the window no longer count
        assert alerts.evaluate(store, now=later) == []


def test_alert_settings_are_validated_and_need_an_operator(
    store: ControlStore, running: str
) -> None:
    for kwargs, code in (
        ({"action": "explode"}, "DW1000"),
        ({"action": "pause", "max_errors": 0}, "DW1000"),
        ({"action": "pause", "alias": "joe"}, "DW3004"),
    ):
        with pytest.raises(DualWriteError) as err:
            _set(store, **kwargs)  # type: ignore[arg-type]
        assert err.value.code == code
    _set(store, "pause", max_errors=7)
    with store.session() as session:
        (rule,) = alerts.alerts_of(session, the_link(session))
        assert (rule.max_errors, rule.window_minutes, rule.action) == (7, 10, "pause")


def test_discarding_an_error_needs_a_reason_and_is_logged(
    store: ControlStore, running: str
) -> None:
    _break_accounts(running, 2)
    worker_ticks(store, 3)
    with store.session() as session:
        link = the_link(session)
        errors = overview.list_errors(link, ACCOUNTS)
        assert len(errors) == 2 and errors[0].payload and "x" * 121 in errors[0].payload
        admin = directory.get_user(session, ADMIN)
        joe = directory.get_user(session, "joe@contoso.onmicrosoft.com")
        for actor, error_id, reason, code in (
            (admin, errors[0].id, " ", "DW1000"),
            (admin, 999_999, "gone", "DW1002"),
            (joe, errors[0].id, "not mine", "DW3004"),
        ):
            with pytest.raises(DualWriteError) as err:
                tablemaps.discard_error(session, actor, link, ACCOUNTS, error_id, reason)
            assert err.value.code == code
        tablemaps.discard_error(session, admin, link, ACCOUNTS, errors[0].id, "test data")
    with store.session() as session:
        link = the_link(session)
        assert [e.id for e in overview.list_errors(link, ACCOUNTS)] == [errors[1].id]
        (entry,) = list_activity(session, link.fo_environment, ActivityFilter(kind="discard"))
    assert entry.actor_label == ADMIN
    assert entry.message.startswith(f"Discarded error {errors[0].id} (dv_to_fo, ")
    assert entry.message.endswith("): test data")
