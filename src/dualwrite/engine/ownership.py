"""Which worker runs which map direction when several workers share the maps over a stream.

Each map direction is leased to one worker in the control store for `LEASE_SECONDS`, renewed
by the worker's passes. A worker takes free or expired leases up to its fair share (the map
directions to run divided by the workers alive) and gives back what is over it when others
join, so the work spreads; one killed with SIGKILL stops renewing and the others take its
leases over once they expire. Two workers can still, for a moment, both believe they own a
map direction (a paused process, clocks): the compare-and-set of the position in the target
keeps them from applying one batch twice.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualwrite.control.models import MapLease, WorkerProcess, as_utc, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR

log = logging.getLogger("dualwrite.worker")

LEASE_SECONDS = 3.0
RENEW_SECONDS = 0.5  # how often a worker renews and rebalances (well within a lease)
FORGET_AFTER = timedelta(days=1)  # a worker gone without a clean stop is listed this long

MapDirection = tuple[int, str]  # (table map id, direction)


def new_worker_id(name: str | None = None) -> str:
    """A worker's ID: its given name, else host and process, unique enough to tell them apart."""
    if name is not None and not (0 < len(name.strip()) <= 64 and name.isprintable()):
        raise ERR.INVALID_INPUT.error(
            field="--name", problem="give the worker a name of 1 to 64 printable characters"
        )
    return name.strip() if name else f"{socket.gethostname()}-{os.getpid()}"[:64]


@dataclass
class Ownership:
    store: ControlStore
    worker_id: str
    stream: str
    _owned: set[MapDirection] = field(default_factory=set)
    _renewed: float = 0.0
    _wanted: set[MapDirection] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _renewer: threading.Thread | None = None

    def register(self) -> None:
        """This worker, alive from now (a restarted one of the same name starts afresh)."""
        with self.store.session() as session:
            row = session.get(WorkerProcess, self.worker_id)
            if row is None:
                row = WorkerProcess(id=self.worker_id)
                session.add(row)
            row.host, row.pid, row.stream = socket.gethostname(), os.getpid(), self.stream
            row.started_at = row.heartbeat_at = utcnow()
            session.execute(delete(MapLease).where(MapLease.worker_id == self.worker_id))
            # Workers killed long ago (no clean stop) leave the list once a day has passed.
            session.execute(
                delete(WorkerProcess).where(
                    WorkerProcess.heartbeat_at < utcnow() - FORGET_AFTER,
                    ~WorkerProcess.id.in_(select(MapLease.worker_id)),
                )
            )

    def keep_renewing(self) -> None:
        """Renew the leases from a thread of their own as well: a pass that takes long (an
        initial sync, NATS away and every call waiting out its timeout) keeps what it holds;
        only a worker that died, or lost the control store, loses its leases."""
        self._renewer = threading.Thread(target=self._renew_loop, daemon=True, name="leases")
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stopping.wait(RENEW_SECONDS / 2):
            try:
                with self._lock:
                    if self._wanted is not None:
                        self._renew(self._wanted)
            except Exception as error:  # the next try may reach it; the pass says more
                log.warning("worker %s cannot renew its leases: %s", self.worker_id, error)

    def owned(self, wanted: Iterable[MapDirection]) -> set[MapDirection]:
        """The map directions this worker runs now, of those `wanted` (the active ones)."""
        wanted = set(wanted)
        with self._lock:
            self._wanted = wanted
            self._renew(wanted)
            return self._owned & wanted

    def _renew(self, wanted: set[MapDirection]) -> None:
        now = time.monotonic()
        if now - self._renewed >= RENEW_SECONDS:
            with self.store.session() as session:
                owned = self._claim(session, wanted)
            if owned != self._owned:
                log.info(
                    "worker %s runs %d map directions (took %s, gave back %s)",
                    self.worker_id,
                    len(owned),
                    sorted(owned - self._owned),
                    sorted(self._owned - owned),
                    extra={"worker": self.worker_id},
                )
            self._owned = owned
            self._renewed = now

    def _claim(self, session: Session, wanted: set[MapDirection]) -> set[MapDirection]:
        now = utcnow()
        until = now + timedelta(seconds=LEASE_SECONDS)
        session.execute(
            update(WorkerProcess).where(WorkerProcess.id == self.worker_id).values(heartbeat_at=now)
        )
        alive = session.scalar(
            select(func.count())
            .select_from(WorkerProcess)
            .where(WorkerProcess.heartbeat_at > now - timedelta(seconds=LEASE_SECONDS))
        )
        share = math.ceil(len(wanted) / max(1, alive or 1))
        leases = {(m.table_map_id, m.direction): m for m in session.scalars(select(MapLease))}
        mine = {k for k, m in leases.items() if m.worker_id == self.worker_id and k in wanted}
        gone = {k for k, m in leases.items() if m.worker_id == self.worker_id and k not in wanted}
        for excess in sorted(mine)[share:] if len(mine) > share else []:
            gone.add(excess)  # others joined: give back what is over the fair share
            mine.discard(excess)
        for key in gone:
            session.execute(
                delete(MapLease).where(
                    MapLease.table_map_id == key[0],
                    MapLease.direction == key[1],
                    MapLease.worker_id == self.worker_id,
                )
            )
        if mine:
            session.execute(
                update(MapLease)
                .where(MapLease.worker_id == self.worker_id)
                .values(expires_at=until)
            )
        for key in sorted(wanted - mine):
            if len(mine) >= share:
                break
            if self._take(session, key, leases.get(key), now, until):
                mine.add(key)
        return mine

    def _take(
        self,
        session: Session,
        key: MapDirection,
        lease: MapLease | None,
        now: datetime,
        until: datetime,
    ) -> bool:
        """A free lease, or an expired one, by compare-and-set: another worker taking it at the
        same moment makes this one fail, not both succeed."""
        if lease is None:
            try:
                with session.begin_nested():
                    session.add(
                        MapLease(
                            table_map_id=key[0],
                            direction=key[1],
                            worker_id=self.worker_id,
                            expires_at=until,
                            acquired_at=now,
                        )
                    )
            except IntegrityError:
                return False
            return True
        if as_utc(lease.expires_at) > now:
            return False  # held by a live worker
        result = session.execute(
            update(MapLease)
            .where(
                MapLease.table_map_id == key[0],
                MapLease.direction == key[1],
                MapLease.worker_id == lease.worker_id,
                MapLease.expires_at == lease.expires_at,
            )
            .values(worker_id=self.worker_id, expires_at=until, acquired_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    def stop(self) -> None:
        """A clean stop hands the leases back at once, without waiting for them to expire."""
        self._stopping.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
        with self._lock, self.store.session() as session:
            session.execute(delete(MapLease).where(MapLease.worker_id == self.worker_id))
            session.execute(delete(WorkerProcess).where(WorkerProcess.id == self.worker_id))
        self._owned.clear()
