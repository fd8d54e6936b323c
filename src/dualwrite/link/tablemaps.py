"""Operating the table maps of a link: run (with initial sync), pause, resume, stop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DirectoryRole,
    DualWriteLink,
    FoSecurityRole,
    ProjectRole,
    TableMapState,
    User,
)
from dualwrite.engine.states import MapAction, MapState, next_state, next_states
from dualwrite.errors import ERR
from dualwrite.lifecycle.environments import has_environment_role
from dualwrite.lifecycle.projects import role_in
from dualwrite.link.links import link_maps
from dualwrite.link.overview import engine_link
from dualwrite.maps.validate import with_dependencies

OPERATOR_PROJECT_ROLES = (ProjectRole.PROJECT_OWNER, ProjectRole.ENVIRONMENT_MANAGER)


def may_operate(actor: User, link: DualWriteLink) -> bool:
    """Running and editing maps after setup (seed 002): a tenant admin, the environment's
    owners and managers, and users with the Dual-write user role in the environment."""
    env = link.fo_environment
    return (
        role_in(env.project, actor) in OPERATOR_PROJECT_ROLES
        or has_environment_role(env, actor, FoSecurityRole.DUALWRITE_USER)
        or (actor.tenant_id == env.project.tenant_id and actor.has_role(DirectoryRole.GLOBAL_ADMIN))
    )


def require_operator(actor: User, link: DualWriteLink, action: str) -> None:
    if not may_operate(actor, link):
        raise ERR.NOT_ALLOWED.error(
            action=action,
            requirement="a tenant administrator, the Project owner or Environment manager role, "
            f"or the Dual-write user role in '{link.fo_environment.name}'",
            who="Project owner or tenant administrator",
        )


def _named(link: DualWriteLink, names: Sequence[str]) -> list[TableMapState]:
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
    _named(link, names)
    states = {m.name: m for m in link.table_maps}
    to_run = [
        states[m.name]
        for m in with_dependencies(link_maps(link), names)
        if m.name in states and (m.name in names or states[m.name].state == MapState.NOT_RUNNING)
    ]
    _move(to_run, MapAction.RUN)
    for tmap_state in to_run:
        tmap_state.initial_sync = initial_sync
        tmap_state.master = master
        tmap_state.progress_done = tmap_state.progress_total = 0
    session.flush()
    return to_run


def pause_maps(session: Session, actor: User, link: DualWriteLink, names: Sequence[str]) -> None:
    require_operator(actor, link, "Pausing table maps")
    _move(_named(link, names), MapAction.PAUSE)


def resume_maps(session: Session, actor: User, link: DualWriteLink, names: Sequence[str]) -> None:
    """Resume: writes refused over a queue limit are allowed again at once; the queue replays."""
    require_operator(actor, link, "Resuming table maps")
    _move(_named(link, names), MapAction.RESUME)
    _lift_guards(link, names)


def stop_maps(session: Session, actor: User, link: DualWriteLink, names: Sequence[str]) -> None:
    require_operator(actor, link, "Stopping table maps")
    _move(_named(link, names), MapAction.STOP)
    _lift_guards(link, names)


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
    (state,) = _named(link, [name])
    for field, value in (("max age", max_age_seconds), ("max bytes", max_bytes)):
        if value is not None and value < 1:
            raise ERR.INVALID_INPUT.error(field=field, problem="must be a positive number")
    if max_age_seconds is not None:
        state.queue_max_age_seconds = max_age_seconds
    if max_bytes is not None:
        state.queue_max_bytes = max_bytes
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
    return bool(getattr(result, "rowcount", 0))
