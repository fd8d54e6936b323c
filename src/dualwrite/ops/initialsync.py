"""Initial sync details: one record per execution of a map's initial sync (rows read, written,
failed), the failed records with their reasons, and "Re-run execution", which retries only the
records that failed in that execution."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DualWriteLink,
    InitialSyncRun,
    TableMapState,
    User,
    as_utc,
    utcnow,
)
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR
from dualwrite.link import overview, tablemaps
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind
from dualwrite.schemas import InitialSyncDetail, InitialSyncRunRead, SyncErrorRead


def begin_run(store: ControlStore, map_id: int, master: str) -> int:
    """The worker starts an execution (its own transaction, so it shows while it runs)."""
    with store.session() as session:
        run = InitialSyncRun(table_map_id=map_id, master=master)
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    store: ControlStore, run_id: int, read: int, written: int, failed: int, error: str | None = None
) -> None:
    with store.session() as session:
        run = session.get_one(InitialSyncRun, run_id)
        run.finished_at, run.read, run.written, run.failed, run.error = (
            utcnow(),
            read,
            written,
            failed,
            error,
        )


def _state(link: DualWriteLink, name: str) -> TableMapState:
    state = next((m for m in link.table_maps if m.name == name), None)
    if state is None:
        raise ERR.NO_MAPS.error(name=name)
    return state


def runs_of(
    session: Session, link: DualWriteLink, name: str, limit: int = 10
) -> list[InitialSyncRun]:
    query = (
        select(InitialSyncRun)
        .where(InitialSyncRun.table_map_id == _state(link, name).id)
        .order_by(InitialSyncRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _failed_records(link: DualWriteLink, name: str, run: InitialSyncRun) -> list[SyncErrorRead]:
    """The open errors that execution left: the master's direction, since it started."""
    direction = "fo_to_dv" if run.master == "fo" else "dv_to_fo"
    since = as_utc(run.started_at)
    return [
        e
        for e in overview.list_errors(link, name)
        if e.direction == direction and as_utc(e.created_at) >= since
    ]


@dataclass(frozen=True)
class RerunResult:
    fixed: int
    still_failing: int


def rerun_execution(session: Session, actor: User, link: DualWriteLink, name: str) -> RerunResult:
    """Retry only the records the latest execution failed on; logged."""
    tablemaps.require_operator(actor, link, "Re-running an initial sync execution")
    runs = [r for r in runs_of(session, link, name, 1) if r.finished_at is not None]
    if not runs:
        raise ERR.INVALID_INPUT.error(
            field="initial sync", problem=f"{name} has no finished initial sync execution yet"
        )
    run = runs[0]
    fixed = failing = 0
    for record in _failed_records(link, name, run):
        done, left = overview.retry_errors(link, name, record.id)
        fixed, failing = fixed + done, failing + left
    run.failed = failing
    run.written += fixed
    message = (
        f"Re-run execution of the initial sync started {as_utc(run.started_at):%Y-%m-%d %H:%M:%S}: "
        f"{fixed} fixed, {failing} still failing"
    )
    activity.record(session, link.fo_environment_id, ActivityKind.RETRY, message, actor, name)
    session.flush()
    return RerunResult(fixed, failing)


def initial_sync_read(
    session: Session, link: DualWriteLink, name: str, *, failed_records: bool = True
) -> InitialSyncDetail:
    """The executions, and the records the latest failed on (from the data stores: pass
    `failed_records=False` while one does not answer; the executions are in the control store)."""
    runs = runs_of(session, link, name)
    latest = next((r for r in runs if r.finished_at is not None), None)
    return InitialSyncDetail(
        runs=[InitialSyncRunRead.model_validate(r) for r in runs],
        failed_records=_failed_records(link, name, latest) if latest and failed_records else [],
    )
