"""The activity log: every state change, initial sync, pause/resume, retry, link and configuration
change of an environment's dual-write, with who did it and when; filterable and paged."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.bounds import within
from dualwrite.control.models import ActivityEntry, FoEnvironment, User
from dualwrite.errors import ERR

WORKER = "sync worker"
MAX_PAGE = 200


class ActivityKind(StrEnum):
    STATE = "state"  # Run, Pause, Resume, Stop, and the worker's Initializing → Running
    INITIAL_SYNC = "initial sync"
    RETRY = "retry"
    CONFIGURATION = "configuration"  # queue limits, solutions applied, link created or reset
    FORCED = "forced"  # an administrator forced a map to Not running
    ALERT = "alert"  # an alert setting fired, and what it did
    DISCARD = "discard"  # a record of the error log given up on, with the reason
    AVAILABILITY = "availability"  # a data store stopped or started answering (link/availability)


def record(
    session: Session,
    env: FoEnvironment | int,
    kind: ActivityKind,
    message: str,
    actor: User | None = None,
    map_name: str | None = None,
) -> ActivityEntry:
    """Add an entry in the caller's unit of work: it commits (or not) with what it describes."""
    entry = ActivityEntry(
        fo_environment_id=env if isinstance(env, int) else env.id,
        map_name=map_name,
        kind=kind.value,
        message=message,
        actor_id=actor.id if actor else None,
        actor_label=actor.upn if actor else WORKER,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class ActivityFilter:
    map_name: str | None = None
    kind: str | None = None
    actor: str | None = None  # a UPN, or "sync worker"
    before: int | None = None  # the last id of the previous page
    limit: int = 50


def list_activity(
    session: Session, env: FoEnvironment, wanted: ActivityFilter = ActivityFilter()
) -> list[ActivityEntry]:
    """Newest first; pass the last id seen as `before` for the next page."""
    within("limit", wanted.limit, 1, MAX_PAGE)
    if wanted.before is not None:
        within("before", wanted.before)
    if wanted.kind is not None and wanted.kind not in {k.value for k in ActivityKind}:
        known = ", ".join(k.value for k in ActivityKind)
        raise ERR.INVALID_INPUT.error(
            field="kind", problem=f"'{wanted.kind}' is not one of {known}"
        )
    query = select(ActivityEntry).where(ActivityEntry.fo_environment_id == env.id)
    if wanted.map_name:
        query = query.where(ActivityEntry.map_name == wanted.map_name)
    if wanted.kind:
        query = query.where(ActivityEntry.kind == wanted.kind)
    if wanted.actor:
        query = query.where(ActivityEntry.actor_label == wanted.actor.strip().lower())
    if wanted.before is not None:
        query = query.where(ActivityEntry.id < wanted.before)
    return list(session.scalars(query.order_by(ActivityEntry.id.desc()).limit(wanted.limit)))
