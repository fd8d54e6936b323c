"""Data integration service health (seed 002): whether the sync worker is running, shown on the
Dual-write page and in the API instead of a page that fails to load, and a restart that an
administrator asks for from the UI, CLI or API (no support ticket).

The supervisor runs the worker in a thread of `dualwrite serve` / `dualwrite worker`, writes a
heartbeat while the worker finishes passes, starts it again when it died, and restarts it when
asked to."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualwrite.control.models import ServiceStatus, User, as_utc, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.engine.worker import Worker
from dualwrite.errors import DualWriteError
from dualwrite.identity.authz import require_operator

log = logging.getLogger("dualwrite.health")
SERVICE = "sync worker"
STALE_AFTER = timedelta(seconds=15)  # no heartbeat for this long: not running


@dataclass(frozen=True)
class ServiceHealth:
    running: bool
    message: str
    last_heartbeat: datetime | None
    host: str | None
    restart_requested_at: datetime | None


def service_health(session: Session, now: datetime | None = None) -> ServiceHealth:
    now = now or datetime.now(UTC)
    status = session.get(ServiceStatus, SERVICE)
    if status is None:
        return ServiceHealth(
            False,
            "The sync worker (data integration service) has never run: start `dualwrite serve` "
            "or `dualwrite worker`.",
            None,
            None,
            None,
        )
    beat = as_utc(status.heartbeat_at)
    running = now - beat <= STALE_AFTER
    seconds = int((now - beat).total_seconds())
    message = (
        f"The sync worker is running on {status.host} (pid {status.pid})."
        if running
        else f"The sync worker (data integration service) is not running: last seen {seconds} s "
        f"ago on {status.host}. Changes keep being captured and wait for it."
    )
    requested = as_utc(status.restart_requested_at) if status.restart_requested_at else None
    if requested is not None and requested <= as_utc(status.started_at):
        requested = None  # every worker restarted since: nothing pending
    return ServiceHealth(running, message, beat, status.host, requested)


def request_restart(session: Session, actor: User) -> None:
    """Ask the supervisor to restart the worker: one worker serves every tenant, so this is an
    installation operator's action."""
    require_operator(actor, "Restarting the sync worker")
    status = session.get(ServiceStatus, SERVICE)
    if status is None:
        never = datetime(1970, 1, 1, tzinfo=UTC)
        status = ServiceStatus(name=SERVICE, heartbeat_at=never, started_at=never)
        session.add(status)
    status.restart_requested_at = utcnow()
    status.restart_requested_by = actor.upn
    log.warning("restart of the sync worker requested by %s", actor.upn, extra={"user": actor.upn})
    session.flush()


class Supervisor:
    """Keeps one sync worker thread alive: heartbeat, restart on death or on request."""

    def __init__(
        self,
        store: ControlStore,
        make_worker: Callable[[ControlStore], Worker] = Worker,
        every_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.make_worker = make_worker
        self.every_seconds = every_seconds
        self.started_at = datetime.now(UTC)
        self._worker: Worker | None = None
        self._thread: threading.Thread | None = None
        self._worker_stop = threading.Event()
        self.restarts = 0

    def _start(self) -> None:
        self._worker_stop = threading.Event()
        self._worker = self.make_worker(self.store)
        self._thread = threading.Thread(
            target=self._run_worker,
            args=(self._worker, self._worker_stop),
            daemon=True,
            name="sync-worker",
        )
        self.started_at = datetime.now(UTC)
        self._thread.start()
        log.info(
            "sync worker started (pid %s)",
            os.getpid(),
            extra={"pid": os.getpid(), "host": socket.gethostname(), "restarts": self.restarts},
        )

    @staticmethod
    def _run_worker(worker: Worker, stop: threading.Event) -> None:
        try:
            worker.run(stop)
        except Exception:  # the supervisor starts a new one; the cause goes to the log
            log.exception(
                "the sync worker stopped on an unexpected error", extra={"pid": os.getpid()}
            )

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _beat(self) -> bool:
        """Write the heartbeat; True when a restart was asked for since the worker started.
        Workers sharing the maps (`dualwrite worker --stream`) share the row: each restarts
        once for a request made after it started, so the request is never cleared."""
        try:
            with self.store.session() as session:
                status = session.get(ServiceStatus, SERVICE)
                if status is None:
                    status = ServiceStatus(name=SERVICE)
                    session.add(status)
                status.host, status.pid = socket.gethostname(), os.getpid()
                status.started_at = self.started_at
                if self._alive():
                    status.heartbeat_at = utcnow()
                requested = status.restart_requested_at
                return requested is not None and as_utc(requested) > self.started_at
        except IntegrityError:  # another worker wrote the first heartbeat at the same moment
            return False

    def run(self, stop: threading.Event) -> None:
        """A restart asks the worker to stop after its current pass (an initial sync may take
        minutes) and starts a new one only once it has: never two workers at a time."""
        self._start()
        try:
            while not stop.is_set():
                try:
                    if self._beat():
                        log.warning(
                            "restart of the sync worker: stopping after its current pass",
                            extra={"restarts": self.restarts},
                        )
                        self._worker_stop.set()
                except DualWriteError as error:
                    log.warning("sync worker heartbeat: %s", error, extra={"code": error.code})
                if not self._alive():
                    log.warning(
                        "starting the sync worker again", extra={"restarts": self.restarts + 1}
                    )
                    self._start()
                    self.restarts += 1
                stop.wait(self.every_seconds)
        finally:
            self._worker_stop.set()
            if self._thread is not None:
                self._thread.join(timeout=10)
