"""Runs queued jobs: inside `dualwrite serve`, in `dualwrite worker`, or in the CLI that asked
for one with --wait. A job claimed by one runner is never run by another; a job whose runner died
is marked failed (and its environment leaves downtime) instead of hanging forever."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import FoEnvironment, Job, JobKind, JobState, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR, DualWriteError
from dualwrite.installation import datastores
from dualwrite.jobs.model import JobRun, StepListener, claim, finish, load_run
from dualwrite.lifecycle import dualwrite_app, linking, ppi

log = logging.getLogger("dualwrite.jobs")

HANDLERS: dict[JobKind, Callable[[JobRun], None]] = {
    JobKind.PPI_SETUP: ppi.run_setup,
    JobKind.DUALWRITE_APP: dualwrite_app.run_install,
    JobKind.LINK: linking.run_link,
}
RECOVERY: dict[JobKind, Callable[[Session, FoEnvironment], None]] = {
    JobKind.PPI_SETUP: ppi.recover_setup,
}
STALE_AFTER = timedelta(minutes=5)


def run_job(store: ControlStore, job_id: int, *listeners: StepListener) -> bool:
    """Run one queued job to its end; False when another runner had already taken it."""
    if not claim(store, job_id):
        return False
    run = load_run(store, job_id, list(listeners))
    about = {"job_id": job_id, "kind": run.kind.value, "environment_id": run.fo_environment_id}
    log.info("job %s (%s) started", job_id, run.kind.value, extra=about)
    try:
        HANDLERS[run.kind](run)
    except DualWriteError as error:
        log.info(
            "job %s (%s) failed: %s",
            job_id,
            run.kind.value,
            error,
            extra={**about, "code": error.code},
        )
        _failed(store, job_id, error)
    except Exception:
        log.exception("job %s (%s) failed unexpectedly", job_id, run.kind.value, extra=about)
        _failed(store, job_id, ERR.INTERNAL.error())
    else:
        log.info("job %s (%s) succeeded", job_id, run.kind.value, extra=about)
        finish(store, job_id)
    return True


def _failed(store: ControlStore, job_id: int, error: DualWriteError) -> None:
    finish(store, job_id, error)
    with store.session() as session:
        datastores.release_job(session, job_id)  # a location it held is free again


def recover_stale(store: ControlStore, older_than: timedelta = STALE_AFTER) -> int:
    """Jobs left running by a runner that died: failed with DW4024, environments restored."""
    cutoff = utcnow() - older_than
    error = ERR.JOB_INTERRUPTED.error()
    with store.session() as session:
        stale = list(
            session.scalars(
                select(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < cutoff)
            )
        )
        for job in stale:
            log.warning(
                "job %s (%s) was left running by a runner that stopped: failed",
                job.id,
                job.kind.value,
                extra={
                    "job_id": job.id,
                    "kind": job.kind.value,
                    "environment_id": job.fo_environment_id,
                    "code": error.code,
                },
            )
            recover = RECOVERY.get(job.kind)
            if recover is not None:
                recover(session, job.fo_environment)
            datastores.release_job(session, job.id)  # a location it held is free again
            job.state, job.step, job.finished_at = JobState.FAILED, "Failed", utcnow()
            job.error_code, job.error_message, job.error_hint = (
                error.code,
                error.message,
                error.hint,
            )
        return len(stale)


def run_pending(store: ControlStore) -> int:
    """Run every queued job, oldest first; returns how many this runner ran."""
    recover_stale(store)
    with store.session() as session:
        queued = list(
            session.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.id))
        )
    return sum(run_job(store, job_id) for job_id in queued)


class JobRunner:
    """A loop for a background thread: run what is queued, then sleep a little."""

    def __init__(self, store: ControlStore, poll_seconds: float = 0.5) -> None:
        self.store = store
        self.poll_seconds = poll_seconds

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ran = run_pending(self.store)
            except DualWriteError as error:  # e.g. the control store is unreachable for a while
                log.warning("job runner: %s", error, extra={"code": error.code})
                ran = 0
            if not ran:
                stop.wait(self.poll_seconds)
