"""Operating the table maps of a link: run (with initial sync), pause, resume, stop."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from dualwrite.bounds import MAX_BIGINT, MAX_INT, within
from dualwrite.control.models import (
    DualWriteLink,
    FoSecurityRole,
    ProjectRole,
    TableMapState,
    User,
)
from dualwrite.engine.states import MapAction, MapState, next_state, next_states
from dualwrite.engine.sync import directions
from dualwrite.errors import ERR, UnavailableError
from dualwrite.lifecycle.environments import has_environment_role
from dualwrite.lifecycle.projects import role_in
from dualwrite.link.availability import unreachable_reason
from dualwrite.link.links import is_tenant_admin, link_maps
from dualwrite.link.overview import engine_link, retry_errors
from dualwrite.maps.validate import with_dependencies
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind

OPERATOR_PROJECT_ROLES = (ProjectRole.PROJECT_OWNER, ProjectRole.ENVIRONMENT_MANAGER)


def may_operate(actor: User, link: DualWriteLink) -> bool:
    """Running and editing maps after setup (seed 002): a tenant admin, the environment's
    owners and managers, and users with the Dual-write user role in the environment."""
    env = link.fo_environment
    return (
        role_in(env.project, actor) in OPERATOR_PROJECT_ROLES
        or has_environment_role(env, actor, FoSecurityRole.DUALWRITE_USER)
        or is_tenant_admin(actor, env.project.tenant_id)
    )


def require_operator(actor: User, link: DualWriteLink, action: str) -> None:
    if not may_operate(actor, link):
        raise ERR.NOT_ALLOWED.error(
            action=action,
            requirement="a tenant administrator, the Project owner or Environment manager role, "
            f"or the Dual-write user role in '{link.fo_environment.name}'",
            who="Project owner or tenant administrator",
        )


def named_maps(link: DualWriteLink, names: Sequence[str]) -> list[TableMapState]:
    by_name = {m.name: m for m in link.table_maps}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ERR.NO_MAPS.error(name=missing[0])
    return [by_name[n] for n in dict.fromkeys(names)]


def _move(states: list[TableMapState], action: MapAction) -> None:
    targets = next_states([(m.name, MapState(m.state)) for m in states], action)
    now = datetime.now(UTC)
    for tmap, target in zip(states, targets, strict=True):
        tmap.state = target.value
        tmap.updated_at = now
        tmap.last_error = None


def run_maps(
    session: Session,
    actor: User,
    link: DualWriteLink,
    names: Sequence[str],
    *,
    initial_sync: bool = False,
    master: str = "fo",
) -> list[TableMapState]:
    """Run maps, with the maps they look up that are not running yet (run first, in order)."""
    require_operator(actor, link, "Running table maps")
    if master not in ("fo", "dataverse"):
        raise ERR.INVALID_INPUT.error(field="master", problem="must be 'fo' or 'dataverse'")
    named_maps(link, names)
    states = {m.name: m for m in link.table_maps}
    to_run = [
        states[m.name]
        for m in with_dependencies(link_maps(link), names)
        if m.name in states and (m.name in names or states[m.name].state == MapState.NOT_RUNNING)
    ]
    _move(to_run, MapAction.RUN)
    side = "finance and operations" if master == "fo" else "Dataverse"
    for tmap_state in to_run:
        tmap_state.initial_sync = initial_sync
        tmap_state.master = master
        tmap_state.progress_done = tmap_state.progress_total = 0
        how = f"with initial sync from {side}" if initial_sync else "without initial sync"
        why = "" if tmap_state.name in names else " (a map it depends on)"
        log_map_activity(session, link, actor, tmap_state.name, f"Run {how}{why}")
    session.flush()
    return to_run


def log_map_activity(
    session: Session,
    link: DualWriteLink,
    actor: User | None,
    name: str,
    message: str,
    kind: ActivityKind = ActivityKind.STATE,
) -> None:
    activity.record(session, link.fo_environment_id, kind, message, actor, name)


def _act(
    session: Session, actor: User, link: DualWriteLink, names: Sequence[str], action: MapAction
) -> list[TableMapState]:
    states = named_maps(link, names)
    before = {m.name: m.state for m in states}
    _move(states, action)
    for m in states:
        log_map_activity(
            session,
            link,
            actor,
            m.name,
            f"{action.value.capitalize()}: {before[m.name]} → {m.state}",
        )
    return states


def pause_maps(session: Session, actor: User, link: DualWriteLink, names: Sequence[str]) -> None:
    require_operator(actor, link, "Pausing table maps")
    _act(session, actor, link, names, MapAction.PAUSE)


def resume_maps(session: Session, actor: User, link: DualWriteLink, names: Sequence[str]) -> None:
    """Resume: writes refused over a queue limit are allowed again at once; the queue replays."""
    require_operator(actor, link, "Resuming table maps")
    _act(session, actor, link, names, MapAction.RESUME)
    _lift_guards(link, names)


def stop_maps(session: Session, actor: User, link: DualWriteLink, names: Sequence[str]) -> None:
    """Stop needs both data stores (the queue guards are lifted in each); when the Dataverse is
    unavailable it fails as seed 002 shows, and an administrator may force Not running instead."""
    require_operator(actor, link, "Stopping table maps")
    _act(session, actor, link, names, MapAction.STOP)
    try:
        _lift_guards(link, names)
    except UnavailableError as error:
        target = link.platform_environment
        raise ERR.STOP_UNAVAILABLE.error(
            connection=target.id,
            platform=target.name,
            problem=unreachable_reason(link, error),  # no URL: operators need not be admins
            env=link.fo_environment.name,
        ) from error


def system_move(link: DualWriteLink, state: TableMapState, action: MapAction) -> str:
    """A move made by dualwrite itself (an alert): the state machine's rules, no user; the
    caller logs it. Stopping also lifts the queue guards."""
    _move([state], action)
    if action is MapAction.STOP:
        _lift_guards(link, [state.name])
    return state.state


def force_not_running(
    session: Session, actor: User, link: DualWriteLink, names: Sequence[str], reason: str
) -> None:
    """What the original needed a support ticket for (seed 002): mark maps Not running without
    reaching the other side. Tenant administrators only, with a reason, logged."""
    if not is_tenant_admin(actor, link.fo_environment.project.tenant_id):
        raise ERR.NOT_ALLOWED.error(
            action="Forcing table maps to Not running",
            requirement="the Global administrator role in this tenant",
            who="Global administrator",
        )
    if not reason.strip():
        raise ERR.INVALID_INPUT.error(field="reason", problem="say why the maps are forced to stop")
    now = datetime.now(UTC)
    for state in named_maps(link, names):
        before = state.state
        state.state, state.updated_at = MapState.NOT_RUNNING.value, now
        message = f"Forced to Not running (was {before}): {reason.strip()}"
        log_map_activity(session, link, actor, state.name, message, ActivityKind.FORCED)
    session.flush()


def discard_error(
    session: Session, actor: User, link: DualWriteLink, name: str, error_id: int, reason: str
) -> None:
    """Give up on one record of the error log: never silently — who and why are logged."""
    require_operator(actor, link, "Discarding errors")
    if not reason.strip():
        raise ERR.INVALID_INPUT.error(field="reason", problem="say why the record is discarded")
    named_maps(link, [name])
    with engine_link(link) as engine:
        tmap = engine.by_name[name]
        found = next(
            (
                e
                for d in directions(tmap)
                for e in engine.open_errors(tmap, d)
                if e["id"] == error_id
            ),
            None,
        )
        if found is None:
            raise ERR.NOT_FOUND.error(
                kind="open error", name=str(error_id), noun=f"errors list --map '{name}'"
            )
        engine.discard_error(tmap, found["direction"], error_id)
    message = (
        f"Discarded error {error_id} ({found['direction']}, {json.dumps(found['source_key'])}: "
        f"{found['reason']}): {reason.strip()}"
    )
    log_map_activity(session, link, actor, name, message, ActivityKind.DISCARD)


def retry_map_errors(
    session: Session, actor: User, link: DualWriteLink, name: str, error_id: int | None = None
) -> tuple[int, int]:
    """Retry a map's open errors (or one): (fixed, still failing), logged."""
    require_operator(actor, link, "Retrying errors")
    fixed, failing = retry_errors(link, name, error_id)
    which = f"error {error_id}" if error_id is not None else "all open errors"
    log_map_activity(
        session,
        link,
        actor,
        name,
        f"Retried {which}: {fixed} fixed, {failing} still failing",
        ActivityKind.RETRY,
    )
    return fixed, failing


def set_queue_limits(
    session: Session,
    actor: User,
    link: DualWriteLink,
    name: str,
    *,
    max_age_seconds: int | None = None,
    max_bytes: int | None = None,
) -> TableMapState:
    """How long and how large a paused map's queue may grow before writes are refused."""
    require_operator(actor, link, "Changing queue limits")
    (state,) = named_maps(link, [name])
    for field, value, high in (
        ("max age", max_age_seconds, MAX_INT),
        ("max bytes", max_bytes, MAX_BIGINT),
    ):
        if value is not None:
            within(field, value, 1, high)
    if max_age_seconds is not None:
        state.queue_max_age_seconds = max_age_seconds
    if max_bytes is not None:
        state.queue_max_bytes = max_bytes
    message = f"Queue limits: {state.queue_max_age_seconds} s, {state.queue_max_bytes} bytes"
    log_map_activity(session, link, actor, name, message, ActivityKind.CONFIGURATION)
    session.flush()
    return state


def set_sync_mode(
    session: Session, actor: User, link: DualWriteLink, name: str, *, synchronous: bool
) -> TableMapState:
    """Whether writes through the environment APIs sync synchronously (they commit only with
    their mapped write; the default, as Microsoft's live sync) or asynchronously (the worker
    applies them after they committed, like any other write)."""
    require_operator(actor, link, "Changing how a table map syncs")
    (state,) = named_maps(link, [name])
    state.synchronous = synchronous
    mode = "synchronous" if synchronous else "asynchronous"
    log_map_activity(
        session, link, actor, name, f"Live sync of API writes: {mode}", ActivityKind.CONFIGURATION
    )
    session.flush()
    return state


def _lift_guards(link: DualWriteLink, names: Sequence[str]) -> None:
    with engine_link(link) as engine:
        for name in names:
            engine.guard(engine.by_name[name], None)


def engine_transition(session: Session, map_id: int, expected: MapState, action: MapAction) -> bool:
    """The worker's own moves (initialized, caught up), only if nobody moved the map meanwhile."""
    target = next_state(str(map_id), expected, action)
    result = session.execute(
        update(TableMapState)
        .where(TableMapState.id == map_id, TableMapState.state == expected.value)
        .values(state=target.value, updated_at=datetime.now(UTC))
    )
    moved = bool(getattr(result, "rowcount", 0))
    if moved:
        state = session.get_one(TableMapState, map_id)
        env_id = session.get_one(DualWriteLink, state.link_id).fo_environment_id
        if expected is MapState.INITIALIZING and state.initial_sync:
            side = "finance and operations" if state.master == "fo" else "Dataverse"
            message = (
                f"Initial sync from {side} done: {state.progress_done} of "
                f"{state.progress_total} records; {target.value}"
            )
            activity.record(session, env_id, ActivityKind.INITIAL_SYNC, message, None, state.name)
        else:
            message = f"{expected.value} → {target.value}"
            activity.record(session, env_id, ActivityKind.STATE, message, None, state.name)
    return moved
