"""The sync worker ("data integration service"): runs every active table map of every link.

It keeps nothing it needs in memory alone: map states live in the control store, positions and
errors in the data stores, so a worker killed at any moment resumes where it stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    AppliedSolution,
    DualWriteLink,
    FoEnvironment,
    PlatformEnvironment,
    TableMapState,
)
from dualwrite.control.store import ControlStore
from dualwrite.databases import display_url
from dualwrite.engine.apply import Direction
from dualwrite.engine.capture.reader import Scan
from dualwrite.engine.jetstream import JetStream, link_key
from dualwrite.engine.ownership import Ownership, new_worker_id
from dualwrite.engine.states import MapAction, MapState
from dualwrite.engine.sync import BatchResult, Link, Master, directions
from dualwrite.engine.wakeup import Wakeup
from dualwrite.errors import ERR, DualWriteError
from dualwrite.link import availability
from dualwrite.link.availability import StoreSide
from dualwrite.link.links import link_maps
from dualwrite.link.tablemaps import engine_transition
from dualwrite.ops import initialsync

log = logging.getLogger("dualwrite.worker")


def _dirs(link: Link, task: MapTask) -> list[Direction]:
    return directions(link.by_name[task.name])


def require_shared_store(store: ControlStore, stream: str) -> None:
    """Workers that share maps find each other in the control store: a server database, not
    one process's SQLite file."""
    if store.engine.dialect.name == "sqlite":
        raise ERR.STREAM_NEEDS_SERVER_STORE.error(stream=display_url(stream))


ACTIVE = (MapState.INITIALIZING.value, MapState.RUNNING.value, MapState.RESUMING.value)
WATCHED = (*ACTIVE, MapState.PAUSED.value)  # paused maps: their queue limits are enforced
LIVE = (MapState.RUNNING, MapState.RESUMING)  # maps that apply captured changes


@dataclass(frozen=True)
class MapTask:
    id: int
    name: str
    state: MapState
    initial_sync: bool
    master: str
    max_age_seconds: int
    max_bytes: int
    last_error: str | None = None


# Told of every live batch: map name, direction and what the batch did (with its latencies).
BatchObserver = Callable[[str, Direction, BatchResult], None]


class Worker:
    def __init__(
        self,
        store: ControlStore,
        poll_seconds: float = 0.05,
        on_batch: BatchObserver | None = None,
        stream: str | None = None,
        name: str | None = None,
    ) -> None:
        """`stream`: a NATS JetStream URL. The worker then shares the maps with the other
        workers of the control store (a lease per map direction, engine/ownership.py) and its
        stages hand batches over through the stream."""
        self.store = store
        self.poll_seconds = poll_seconds
        self.on_batch = on_batch
        self.stream_url = stream
        self.ownership: Ownership | None = None
        if stream is not None:
            require_shared_store(store, stream)
            self.ownership = Ownership(store, new_worker_id(name), display_url(stream))
            self.ownership.register()
            self.ownership.keep_renewing()
        self._links: dict[tuple[int, str], Link] = {}
        self._wakeup = Wakeup()
        # (environment id, store) logged as unreachable: probed until it answers. Outages an
        # earlier worker logged are read once per environment (_known).
        self._down: set[tuple[int, StoreSide]] = set()
        self._known: set[int] = set()

    def close(self) -> None:
        for link in self._links.values():
            link.close()
        self._links.clear()
        self._wakeup.close()
        if self.ownership is not None:
            self.ownership.stop()

    def _engine_link(self, session: Session, link_id: int, signature: str) -> Link:
        """The engine's Link for a control-store link, rebuilt (from the full link) only when
        its signature changed: solutions applied again, field mappings edited, legal entities or
        a data store's URL changed."""
        key = (link_id, signature)
        if key not in self._links:
            for old in [k for k in self._links if k[0] == link_id]:
                self._links.pop(old).close()
            link = session.get_one(DualWriteLink, link_id)
            fo_url = link.fo_environment.data_store_url
            dv_url = link.platform_environment.dataverse_url or ""
            maps = link_maps(link)
            stream = None
            if self.stream_url is not None:
                stream = JetStream(
                    self.stream_url, link_key(fo_url, dv_url), {m.name: m for m in maps}
                )
            self._links[key] = Link(
                fo_url, dv_url, frozenset(link.legal_entity_ids), maps, stream=stream
            )
        return self._links[key]

    def _active(self) -> list[tuple[int, Link, list[MapTask]]]:
        """The links with a map to run or watch (with their environment's id), and those maps.
        Every pass asks, so a map paused or stopped from the UI is left alone from the next pass
        on; two light queries (map states, and what the link's engine is built from) keep that
        cheap."""
        with self.store.reading() as session:
            maps = session.execute(
                select(
                    TableMapState.id,
                    TableMapState.link_id,
                    TableMapState.name,
                    TableMapState.state,
                    TableMapState.initial_sync,
                    TableMapState.master,
                    TableMapState.queue_max_age_seconds,
                    TableMapState.queue_max_bytes,
                    TableMapState.last_error,
                    TableMapState.field_directions,
                    TableMapState.field_transforms,
                )
                .where(
                    TableMapState.link_id.in_(
                        select(TableMapState.link_id).where(TableMapState.state.in_(WATCHED))
                    )
                )
                .order_by(TableMapState.link_id, TableMapState.name)
            ).all()
            if not maps:
                return []
            heads = session.execute(
                select(
                    DualWriteLink.id,
                    DualWriteLink.fo_environment_id,
                    FoEnvironment.name,
                    DualWriteLink.legal_entities,
                    FoEnvironment.data_store_url,
                    PlatformEnvironment.dataverse_url,
                    AppliedSolution.id,
                    AppliedSolution.version,
                    AppliedSolution.applied_at,
                )
                .join(FoEnvironment, FoEnvironment.id == DualWriteLink.fo_environment_id)
                .join(
                    PlatformEnvironment,
                    PlatformEnvironment.id == DualWriteLink.platform_environment_id,
                )
                .outerjoin(AppliedSolution, AppliedSolution.link_id == DualWriteLink.id)
                .where(DualWriteLink.id.in_({m.link_id for m in maps}))
                .order_by(DualWriteLink.id, AppliedSolution.id)
            ).all()
            signatures: dict[int, list[str]] = {}
            names: dict[int, str] = {}
            env_ids: dict[int, int] = {}
            for link_id, env_id, env, entities, fo_url, dv_url, sid, version, applied in heads:
                names[link_id], env_ids[link_id] = env, env_id
                parts = signatures.setdefault(link_id, [entities, fo_url, dv_url or ""])
                parts.append(f"{sid}:{version}:{applied}")
            tasks: dict[int, list[MapTask]] = {}
            for m in maps:
                signatures[m.link_id].append(m.field_directions + m.field_transforms)
                if m.state in WATCHED:
                    tasks.setdefault(m.link_id, []).append(
                        MapTask(
                            m.id,
                            m.name,
                            MapState(m.state),
                            m.initial_sync,
                            m.master,
                            m.queue_max_age_seconds,
                            m.queue_max_bytes,
                            m.last_error,
                        )
                    )
            out = []
            broken: list[tuple[int, str]] = []
            unbuilt: list[tuple[int, dict[StoreSide, str], DualWriteError]] = []
            for link_id, link_tasks in tasks.items():
                try:
                    engine_link = self._engine_link(session, link_id, "|".join(signatures[link_id]))
                except DualWriteError as error:  # a store that cannot be opened: the others go on
                    broken += [(t.id, error.message) for t in link_tasks]
                    fo_url, dv_url = signatures[link_id][1:3]
                    urls = {StoreSide.FO: fo_url, StoreSide.DATAVERSE: dv_url}
                    unbuilt.append((env_ids[link_id], urls, error))
                    fields = {"environment": names[link_id], "code": error.code}
                    log.warning("link of %s: %s", names[link_id], error, extra=fields)
                    continue
                out.append((env_ids[link_id], engine_link, link_tasks))
        for map_id, message in broken:  # after the read: one control-store transaction at a time
            self._note(map_id, message)
        for env_id, urls, failure in unbuilt:
            self._noted_down(env_id, urls, [failure])
        return out

    def tick(self) -> int:
        """One pass over every active map; returns how many changes it handled (applied,
        skipped or failed): 0 means there was nothing to do."""
        handled = 0
        active = self._active()
        owned = self._owned(active)
        for env_id, link, every_task in active:
            # A map starts only after the maps it looks up have: were one to fail (a store
            # busy or away), its records would fail their lookups instead of waiting for them.
            # Those maps may be another worker's: all of the link's count.
            starting = {t.name for t in every_task if t.state is MapState.INITIALIZING}
            tasks = every_task
            if owned is not None:  # sharing the maps: only the directions this worker leases
                tasks = [t for t in tasks if any((t.id, d) in owned for d in _dirs(link, t))]
            order = [m.name for m in link.maps]
            failures: list[DualWriteError] = []
            try:  # one look at each source's log tells the maps with nothing to do
                scans = link.scan([link.by_name[t.name] for t in tasks if t.state in LIVE])
            except DualWriteError:
                scans = {}  # each map reads for itself and says what is wrong
            for task in sorted(tasks, key=lambda t: order.index(t.name)):
                if task.name in starting and starting & set(link.by_name[task.name].depends_on):
                    continue  # the next pass tries again, after the failed one
                try:
                    handled += self._step(link, task, scans, owned)
                    starting.discard(task.name)
                    if task.last_error is not None:  # it works again: the message is stale
                        self._note(task.id, None)
                except DualWriteError as error:  # e.g. a data store is unreachable: retry later
                    failures.append(error)
                    self._note(task.id, error.message)
                    fields = {"map": task.name, "state": task.state.value, "code": error.code}
                    log.warning("map %s: %s", task.name, error, extra=fields)
            self._availability(env_id, link, failures)
        return handled

    def _availability(self, env_id: int, link: Link, failures: list[DualWriteError]) -> None:
        """Log when a store stops answering (the first failure is the outage's "since" on the
        Dual-write page) and, probing it each pass meanwhile, when it answers again."""
        if env_id not in self._known:
            with self.store.reading() as session:
                for side in StoreSide:
                    if availability.unreachable_since(session, env_id, side) is not None:
                        self._down.add((env_id, side))
            self._known.add(env_id)
        urls = {StoreSide.FO: link.fo_url, StoreSide.DATAVERSE: link.dv_url}
        failing = self._noted_down(env_id, urls, failures)
        for side in [s for e, s in self._down if e == env_id and s not in failing]:
            if availability.probe(urls[side]) is not None:
                continue
            with self.store.session() as session:
                availability.note_reachable(session, env_id, side)
            self._down.discard((env_id, side))

    def _noted_down(
        self, env_id: int, urls: dict[StoreSide, str], failures: list[DualWriteError]
    ) -> set[StoreSide]:
        """The stores the failures name as unavailable; each logged once per outage."""
        failing = {availability.side_of(urls, e): e for e in failures if e.transient}
        for side, error in failing.items():
            if side is not None and (env_id, side) not in self._down:
                with self.store.session() as session:
                    availability.note_unreachable(session, env_id, side, error)
                self._down.add((env_id, side))
        return {side for side in failing if side is not None}

    def _owned(self, active: list[tuple[int, Link, list[MapTask]]]) -> set[tuple[int, str]] | None:
        """The map directions this worker leases now; None when it runs every map alone."""
        if self.ownership is None:
            return None
        wanted = [(t.id, d) for _e, link, tasks in active for t in tasks for d in _dirs(link, t)]
        owned = self.ownership.owned(wanted)
        for _env, link, tasks in active:  # given up: the next owner goes on from the target
            for task in tasks:
                for direction in _dirs(link, task):
                    if (task.id, direction) not in owned:
                        link.release(link.by_name[task.name], direction)
        return owned

    def _step(
        self,
        link: Link,
        task: MapTask,
        scans: dict[Direction, Scan],
        owned: set[tuple[int, str]] | None = None,
    ) -> int:
        tmap = link.by_name[task.name]
        whole_map = task.state in (MapState.PAUSED, MapState.INITIALIZING)
        if owned is not None and whole_map and (task.id, "fo_to_dv") not in owned:
            return 0  # initial sync and queue limits: the map's first direction's owner
        if task.state is MapState.PAUSED:
            self._enforce_queue_limits(link, task)
            return 0
        if task.state is MapState.INITIALIZING:
            if task.initial_sync:
                master: Master = "dataverse" if task.master == "dataverse" else "fo"
                run_id = initialsync.begin_run(self.store, task.id, master)
                try:
                    link.initial_sync(
                        tmap, master, lambda _n, done, total: self._progress(task.id, done, total)
                    )
                except Exception as error:  # recorded, then retried on the next pass as before
                    initialsync.finish_run(self.store, run_id, 0, 0, 0, str(error)[:2000])
                    raise
                read, written, failed = link.last_initial_sync or (0, 0, 0)
                initialsync.finish_run(self.store, run_id, read, written, failed)
            else:
                link.start_live(tmap)
            with self.store.session() as session:
                engine_transition(session, task.id, MapState.INITIALIZING, MapAction.INITIALIZED)
            return 0
        handled = 0  # applied, skipped or failed: a batch of skipped changes is work done too
        for direction in directions(tmap):
            if owned is not None and (task.id, direction) not in owned:
                continue
            result = link.sync_batch(tmap, direction, scans.get(direction))
            if self.on_batch is not None:
                self.on_batch(task.name, direction, result)
            handled += result.applied + result.skipped + result.failed
        if task.state is MapState.RESUMING and handled == 0:
            with self.store.session() as session:
                engine_transition(session, task.id, MapState.RESUMING, MapAction.CAUGHT_UP)
        return handled

    def _enforce_queue_limits(self, link: Link, task: MapTask) -> None:
        count, size, oldest = link.queue_stats(link.by_name[task.name])
        if not count:
            return
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        if age > task.max_age_seconds:
            reason = f"queue older than {task.max_age_seconds} s"
        elif size > task.max_bytes:
            reason = f"queue larger than {task.max_bytes} bytes"
        else:
            return
        link.guard(link.by_name[task.name], reason)
        self._note(task.id, f"Writes refused: {reason}; resume the map to play it back.")

    def _progress(self, map_id: int, done: int, total: int) -> None:
        with self.store.session() as session:
            session.execute(
                update(TableMapState)
                .where(TableMapState.id == map_id)
                .values(progress_done=done, progress_total=total)
            )

    def _note(self, map_id: int, message: str | None) -> None:
        with self.store.session() as session:
            session.execute(
                update(TableMapState).where(TableMapState.id == map_id).values(last_error=message)
            )

    def _idle(self) -> None:
        """Nothing to do: wait for news. Only when every source is PostgreSQL can the worker
        sleep until NOTIFY; with any polled source it checks again after `poll_seconds`."""
        engines = [e for link in self._links.values() for e in (link.fo, link.dv)]
        if engines and all(e.dialect.name == "postgresql" for e in engines):
            self._wakeup.watch(engines)
            self._wakeup.wait(self.poll_seconds, listen_seconds=max(self.poll_seconds, 1.0))
        else:
            self._wakeup.wait(self.poll_seconds)

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; sleeps only when a pass found nothing to do."""
        try:
            while not stop.is_set():
                if self.tick() == 0:
                    self._idle()
        finally:
            self.close()
