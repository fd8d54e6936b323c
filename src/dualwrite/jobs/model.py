"""Asynchronous jobs: submitted by a request, run later by the job runner, their step, progress
and outcome (or error) kept in the control store for the user to see."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dualwrite.bounds import within
from dualwrite.control.models import FoEnvironment, Job, JobKind, JobState, User, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.errors import CATALOGUE, ERR, DualWriteError

OPEN = (JobState.QUEUED, JobState.RUNNING)
MAX_PAGE = 200
StepListener = Callable[[str, int], None]


def submit(
    session: Session, kind: JobKind, env: FoEnvironment, actor: User, params: dict[str, Any]
) -> Job:
    """Queue a job; one open job per environment at a time (they all change its setup)."""
    busy = session.scalar(
        select(Job).where(Job.fo_environment_id == env.id, Job.state.in_(OPEN)).limit(1)
    )
    if busy is not None:
        raise ERR.JOB_IN_PROGRESS.error(kind=busy.kind.value, name=env.name, job=busy.id)
    job = Job(
        kind=kind,
        fo_environment_id=env.id,
        requested_by_id=actor.id,
        params=json.dumps(params),
    )
    session.add(job)
    session.flush()
    return job


def claim(store: ControlStore, job_id: int) -> bool:
    """Atomically take a queued job, so two runners never run the same one."""
    now = utcnow()
    with store.session() as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED)
            .values(state=JobState.RUNNING, started_at=now, heartbeat_at=now, step="Started")
        )
        return bool(getattr(result, "rowcount", 0))


def finish(store: ControlStore, job_id: int, error: DualWriteError | None = None) -> None:
    with store.session() as session:
        job = session.get_one(Job, job_id)
        job.finished_at = utcnow()
        if error is None:
            job.state, job.step, job.percent = JobState.SUCCEEDED, "Completed", 100
        else:
            job.state, job.step = JobState.FAILED, "Failed"
            job.error_code, job.error_message, job.error_hint = (
                error.code,
                error.message,
                error.hint,
            )


@dataclass
class JobRun:
    """What a job handler gets: its parameters and a way to report each step."""

    store: ControlStore
    job_id: int
    kind: JobKind
    fo_environment_id: int
    requested_by_id: int | None
    params: dict[str, Any]
    listeners: list[StepListener] = field(default_factory=list)

    def step(self, text: str, percent: int) -> None:
        """Record progress in its own transaction, so others see it while the job runs."""
        with self.store.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(step=text, percent=percent, heartbeat_at=utcnow())
            )
        for listener in self.listeners:
            listener(text, percent)

    def actor(self, session: Session) -> User:
        user = session.get(User, self.requested_by_id) if self.requested_by_id else None
        if user is None or not user.is_active:
            raise ERR.NOT_SIGNED_IN.error()
        return user

    def environment(self, session: Session) -> FoEnvironment:
        return session.get_one(FoEnvironment, self.fo_environment_id)


def load_run(store: ControlStore, job_id: int, listeners: list[StepListener]) -> JobRun:
    with store.session() as session:
        job = session.get_one(Job, job_id)
        return JobRun(
            store=store,
            job_id=job.id,
            kind=job.kind,
            fo_environment_id=job.fo_environment_id,
            requested_by_id=job.requested_by_id,
            params=json.loads(job.params),
            listeners=listeners,
        )


def environment_jobs(session: Session, env: FoEnvironment, limit: int = 20) -> list[Job]:
    query = (
        select(Job)
        .where(Job.fo_environment_id == env.id)
        .order_by(Job.id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    return list(session.scalars(query))


def get_job(session: Session, env: FoEnvironment, job_id: int) -> Job:
    job = session.get(Job, within("job_id", job_id))
    if job is None or job.fo_environment_id != env.id:
        raise ERR.NOT_FOUND.error(kind="job", name=str(job_id), noun=f"env jobs {env.name}")
    return job


def last_job(session: Session, env: FoEnvironment, kind: JobKind) -> Job | None:
    query = (
        select(Job)
        .where(Job.fo_environment_id == env.id, Job.kind == kind)
        .order_by(Job.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def job_error(job: Job) -> DualWriteError | None:
    """The error a failed job recorded, as the error it was (same code, status and hint)."""
    if job.state is not JobState.FAILED or job.error_code is None:
        return None
    entry = CATALOGUE.get(job.error_code)
    kind = entry.kind if entry is not None else DualWriteError
    return kind(job.error_code, job.error_message or "", job.error_hint or "")
