"""The workers that share the maps over a stream (`dualwrite workers`): each with its host,
heartbeat age and the map directions it leases, with how many changes wait for each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DualWriteLink,
    MapLease,
    TableMapState,
    User,
    WorkerProcess,
    as_utc,
    utcnow,
)
from dualwrite.engine.ownership import LEASE_SECONDS
from dualwrite.errors import DualWriteError
from dualwrite.identity.authz import require_operator
from dualwrite.link.overview import engine_link, queued_of


@dataclass(frozen=True)
class LeaseView:
    environment: str
    map_name: str
    direction: str
    expires_in_seconds: float
    queued: int | None  # changes waiting; None when a store does not answer


@dataclass(frozen=True)
class WorkerView:
    id: str
    host: str
    pid: int
    stream: str
    started_at: datetime
    heartbeat_age_seconds: float
    alive: bool
    leases: Sequence[LeaseView]


def list_workers(session: Session, actor: User, link_id: int | None = None) -> list[WorkerView]:
    """Every worker of the installation (one process serves every tenant: operators only);
    with `link_id`, only the leases of that link's maps (the Dual-write page)."""
    require_operator(actor, "Listing the sync workers")
    now = utcnow()
    query = (
        select(MapLease, TableMapState, DualWriteLink)
        .join(TableMapState, TableMapState.id == MapLease.table_map_id)
        .join(DualWriteLink, DualWriteLink.id == TableMapState.link_id)
        .order_by(DualWriteLink.id, TableMapState.name, MapLease.direction)
    )
    if link_id is not None:
        query = query.where(DualWriteLink.id == link_id)
    rows = session.execute(query).all()
    waiting = _queued(session, {link.id for _l, _s, link in rows})
    leases: dict[str, list[LeaseView]] = {}
    for lease, state, link in rows:
        leases.setdefault(lease.worker_id, []).append(
            LeaseView(
                environment=link.fo_environment.name,
                map_name=state.name,
                direction=lease.direction,
                expires_in_seconds=round((as_utc(lease.expires_at) - now).total_seconds(), 1),
                queued=waiting.get((link.id, state.name, lease.direction)),
            )
        )
    views = []
    for worker in session.scalars(select(WorkerProcess).order_by(WorkerProcess.id)):
        age = (now - as_utc(worker.heartbeat_at)).total_seconds()
        views.append(
            WorkerView(
                id=worker.id,
                host=worker.host,
                pid=worker.pid,
                stream=worker.stream,
                started_at=as_utc(worker.started_at),
                heartbeat_age_seconds=max(0.0, round(age, 1)),  # clocks of two machines
                alive=age <= LEASE_SECONDS,
                leases=leases.get(worker.id, []),
            )
        )
    return views


def _queued(session: Session, link_ids: set[int]) -> dict[tuple[int, str, str], int]:
    """Changes waiting per (link, map, direction); a link whose stores do not answer is left
    out (its leases show None)."""
    found: dict[tuple[int, str, str], int] = {}
    for link_id in sorted(link_ids):
        link = session.get_one(DualWriteLink, link_id)
        try:
            with engine_link(link) as engine:
                for state in link.table_maps:
                    if state.name in engine.by_name:
                        for direction, count in queued_of(engine, state.name).items():
                            found[(link_id, state.name, direction)] = count
        except DualWriteError:
            continue
    return found
