"""Alert settings per table map: when a map collects N errors within T minutes, notify (activity
log and server log), pause it, or stop it — and log what was done. Evaluated by the monitor that
`dualwrite serve` and `dualwrite worker` run next to the sync worker."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dualwrite.bounds import MAX_ALERT_WINDOW_MINUTES, MAX_INT, within
from dualwrite.control.models import AlertRule, DualWriteLink, User, as_utc
from dualwrite.control.store import ControlStore
from dualwrite.engine.states import MapAction, MapState
from dualwrite.errors import ERR, DualWriteError
from dualwrite.link import overview, tablemaps
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind

log = logging.getLogger("dualwrite.alerts")
WATCHED = (MapState.RUNNING.value, MapState.RESUMING.value, MapState.INITIALIZING.value)


class AlertAction(StrEnum):
    NOTIFY = "notify"
    PAUSE = "pause"
    STOP = "stop"


def set_alert(
    session: Session,
    actor: User,
    link: DualWriteLink,
    map_name: str,
    *,
    max_errors: int,
    window_minutes: int,
    action: AlertAction | str,
) -> AlertRule:
    """Create or change a map's alert setting (operators of the link; logged)."""
    tablemaps.require_operator(actor, link, "Changing alert settings")
    if map_name not in {m.name for m in link.table_maps}:
        raise ERR.NO_MAPS.error(name=map_name)
    within("max errors", max_errors, 1, MAX_INT)
    within("window minutes", window_minutes, 1, MAX_ALERT_WINDOW_MINUTES)
    try:
        wanted = AlertAction(str(action).strip().lower())
    except ValueError:
        raise ERR.INVALID_INPUT.error(
            field="action", problem=f"'{action}' is not notify, pause or stop"
        ) from None
    rule = session.scalar(
        select(AlertRule).where(AlertRule.link_id == link.id, AlertRule.map_name == map_name)
    )
    if rule is None:
        rule = AlertRule(link_id=link.id, map_name=map_name)
        session.add(rule)
    rule.max_errors, rule.window_minutes, rule.action = max_errors, window_minutes, wanted.value
    message = f"Alert: {max_errors} errors within {window_minutes} min → {wanted.value}"
    activity.record(
        session, link.fo_environment_id, ActivityKind.CONFIGURATION, message, actor, map_name
    )
    session.flush()
    return rule


def remove_alert(session: Session, actor: User, link: DualWriteLink, map_name: str) -> None:
    tablemaps.require_operator(actor, link, "Changing alert settings")
    session.execute(
        delete(AlertRule).where(AlertRule.link_id == link.id, AlertRule.map_name == map_name)
    )
    activity.record(
        session,
        link.fo_environment_id,
        ActivityKind.CONFIGURATION,
        "Alert removed",
        actor,
        map_name,
    )


def alerts_of(session: Session, link: DualWriteLink) -> list[AlertRule]:
    query = select(AlertRule).where(AlertRule.link_id == link.id).order_by(AlertRule.map_name)
    return list(session.scalars(query))


def _recent_errors(link: DualWriteLink, map_name: str, since: datetime) -> int:
    return sum(1 for e in overview.list_errors(link, map_name) if as_utc(e.created_at) >= since)


def evaluate(store: ControlStore, now: datetime | None = None) -> list[str]:
    """Check every alert of a watched map once; returns what fired (for logs and tests).
    A rule fires at most once per window, so a burst gives one notification, not one a second."""
    now = now or datetime.now(UTC)
    fired: list[str] = []
    with store.session() as session:
        rules = list(session.scalars(select(AlertRule)))
        for rule in rules:
            link = session.get_one(DualWriteLink, rule.link_id)
            state = next((m for m in link.table_maps if m.name == rule.map_name), None)
            if state is None or state.state not in WATCHED:
                continue
            since = now - timedelta(minutes=rule.window_minutes)
            if rule.last_fired_at is not None and as_utc(rule.last_fired_at) > since:
                continue
            try:
                count = _recent_errors(link, rule.map_name, since)
            except DualWriteError as error:  # a store that cannot be reached: next round
                log.warning(
                    "alert of %s: %s",
                    rule.map_name,
                    error,
                    extra={
                        "environment": link.fo_environment.name,
                        "map": rule.map_name,
                        "code": error.code,
                    },
                )
                continue
            if count < rule.max_errors:
                continue
            rule.last_fired_at = now
            taken = _take(session, link, rule, state.state)
            message = (
                f"Alert: {count} errors within {rule.window_minutes} min (threshold "
                f"{rule.max_errors}) → {taken}"
            )
            activity.record(
                session, link.fo_environment_id, ActivityKind.ALERT, message, None, rule.map_name
            )
            log.warning(
                "%s / %s: %s",
                link.fo_environment.name,
                rule.map_name,
                message,
                extra={
                    "environment": link.fo_environment.name,
                    "map": rule.map_name,
                    "count": count,
                    "threshold": rule.max_errors,
                    "window_minutes": rule.window_minutes,
                    "action": rule.action,
                    "outcome": taken,
                },
            )
            fired.append(f"{rule.map_name}: {taken}")
    return fired


def _take(session: Session, link: DualWriteLink, rule: AlertRule, current: str) -> str:
    if rule.action == AlertAction.NOTIFY:
        return "notified"
    action = MapAction.PAUSE if rule.action == AlertAction.PAUSE else MapAction.STOP
    state = next(m for m in link.table_maps if m.name == rule.map_name)
    try:
        target = tablemaps.system_move(link, state, action)
    except DualWriteError as error:  # e.g. Initializing cannot pause: notify instead
        return f"notified ({action.value} not possible while {current}: {error.message})"
    return f"{'paused' if action is MapAction.PAUSE else 'stopped'} ({current} → {target})"


class AlertMonitor:
    """A loop for a background thread next to the sync worker."""

    def __init__(self, store: ControlStore, every_seconds: float = 5.0) -> None:
        self.store = store
        self.every_seconds = every_seconds

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                evaluate(self.store)
            except DualWriteError as error:
                log.warning("alert monitor: %s", error, extra={"code": error.code})
            stop.wait(self.every_seconds)
