"""Prometheus metrics of dual-write, computed when scraped from the control store and the data
stores: map states, changes captured/applied/failed/skipped, queued changes and lag per
direction, open errors, initial sync progress, links whose data stores cannot be reached, and jobs.

The change totals are kept in the target data stores, committed with the rows they count, so
they survive restarts and are the same whichever process serves the scrape."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DualWriteLink,
    FoEnvironment,
    Job,
    MapLease,
    Project,
    User,
    WorkerProcess,
    as_utc,
)
from dualwrite.engine.ownership import LEASE_SECONDS
from dualwrite.engine.states import MapState
from dualwrite.errors import DualWriteError
from dualwrite.identity.authz import is_operator
from dualwrite.lifecycle.environments import visible_environments
from dualwrite.link import overview

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _counters(registry: CollectorRegistry) -> dict[str, Counter]:
    def counter(name: str, doc: str) -> Counter:
        return Counter(name, doc, ("environment", "map", "direction"), registry=registry)

    return {
        "captured": counter("dualwrite_changes_captured", "Changes captured on the source side."),
        "applied": counter("dualwrite_changes_applied", "Records written to the other side."),
        "failed": counter("dualwrite_changes_failed", "Records sent to the error log."),
        "skipped": counter(
            "dualwrite_changes_skipped",
            "Changes taken but not written: outside the map's filters or legal entities, "
            "superseded, or a conflict lost.",
        ),
    }


def _gauges(registry: CollectorRegistry) -> dict[str, Gauge]:
    def gauge(name: str, doc: str, *labels: str) -> Gauge:
        return Gauge(name, doc, labels, registry=registry)

    return {
        "up": gauge(
            "dualwrite_link_up", "1 when both data stores of the link answer.", "environment"
        ),
        "state": gauge(
            "dualwrite_map_state", "1 for the state the map is in.", "environment", "map", "state"
        ),
        "queued": gauge(
            "dualwrite_changes_queued",
            "Captured changes not applied yet.",
            "environment",
            "map",
            "direction",
        ),
        "lag": gauge(
            "dualwrite_lag_seconds",
            "Age of the oldest change not applied yet (0 when none).",
            "environment",
            "map",
            "direction",
        ),
        "errors": gauge(
            "dualwrite_sync_errors_open",
            "Records in the error log, not applied.",
            "environment",
            "map",
            "direction",
        ),
        "initial": gauge(
            "dualwrite_initial_sync_records",
            "Initial sync progress: records done and total.",
            "environment",
            "map",
            "kind",
        ),
        "jobs": gauge("dualwrite_jobs", "Setup jobs by state.", "state"),
    }


def _lag(link: DualWriteLink, name: str, now: datetime) -> dict[str, float]:
    oldest: dict[str, float] = {}
    for row in overview.queued_records(link, name, None, 1000):
        age = max(0.0, (now - as_utc(row.captured_at)).total_seconds())
        oldest[row.direction] = max(oldest.get(row.direction, 0.0), age)
    return oldest


def _link_metrics(
    link: DualWriteLink, g: dict[str, Gauge], c: dict[str, Counter], now: datetime
) -> None:
    env = link.fo_environment.name
    try:
        maps = overview.describe_maps(link)
        # A store that does not answer leaves the maps without figures: states only, as below.
        reachable = all(m.queued is not None for m in maps)
        errors = (
            Tally((e.map_name, e.direction) for e in overview.list_errors(link))
            if reachable
            else Tally()
        )
    except DualWriteError:
        reachable = False
    if not reachable:
        g["up"].labels(env).set(0)
        for state in link.table_maps:
            g["state"].labels(env, state.name, state.state).set(1)
        return
    g["up"].labels(env).set(1)
    for m in maps:
        for known in MapState:
            g["state"].labels(env, m.name, known.value).set(1 if m.state == known.value else 0)
        queued, changes = m.queued or {}, m.changes or {}
        lag = _lag(link, m.name, now) if any(queued.values()) else {}
        for direction, count in queued.items():
            g["queued"].labels(env, m.name, direction).set(count)
            g["lag"].labels(env, m.name, direction).set(lag.get(direction, 0.0))
            g["errors"].labels(env, m.name, direction).set(errors.get((m.name, direction), 0))
        for direction, counts in changes.items():
            for name in ("captured", "applied", "failed", "skipped"):
                c[name].labels(env, m.name, direction).inc(getattr(counts, name))
        if m.initial_sync:
            g["initial"].labels(env, m.name, "done").set(m.progress_done)
            g["initial"].labels(env, m.name, "total").set(m.progress_total)


def render_metrics(session: Session, actor: User) -> bytes:
    """The exposition text for the environments the actor can see."""
    registry = CollectorRegistry()
    g, c = _gauges(registry), _counters(registry)
    now = datetime.now(UTC)
    visible = select(FoEnvironment.id).join(Project).where(visible_environments(actor))
    query = select(DualWriteLink).where(DualWriteLink.fo_environment_id.in_(visible))
    for link in session.scalars(query):
        _link_metrics(link, g, c, now)
    jobs = (
        select(Job.state, func.count())
        .where(Job.fo_environment_id.in_(visible))
        .group_by(Job.state)
    )
    for state, count in session.execute(jobs):
        g["jobs"].labels(state.value).set(count)
    if is_operator(actor):  # workers serve every tenant: installation operators see them
        _worker_metrics(session, registry, now)
    return generate_latest(registry)


def _worker_metrics(session: Session, registry: CollectorRegistry, now: datetime) -> None:
    """Per worker sharing the maps over a stream: alive, heartbeat age, directions leased."""
    up = Gauge(
        "dualwrite_worker_up",
        "1 while the worker renews its heartbeat.",
        ("worker", "host"),
        registry=registry,
    )
    age = Gauge(
        "dualwrite_worker_heartbeat_age_seconds",
        "Seconds since the worker's last heartbeat.",
        ("worker",),
        registry=registry,
    )
    leased = Gauge(
        "dualwrite_worker_leases", "Map directions the worker runs.", ("worker",), registry=registry
    )
    counts = dict(
        session.execute(select(MapLease.worker_id, func.count()).group_by(MapLease.worker_id)).all()
    )
    for worker in session.scalars(select(WorkerProcess)):
        seconds = max(0.0, (now - as_utc(worker.heartbeat_at)).total_seconds())
        up.labels(worker.id, worker.host).set(1 if seconds <= LEASE_SECONDS else 0)
        age.labels(worker.id).set(round(seconds, 1))
        leased.labels(worker.id).set(counts.get(worker.id, 0))
