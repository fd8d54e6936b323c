"""Synchronous dual-write for writes through an environment's API: which table maps take part,
and their mapped writes on the other side in the same unit of work (engine/synchronous.py).

Microsoft's live sync is synchronous for writes made in the apps: here, those that come
through the Dataverse Web API or the F&O OData API. Plain SQL writers keep the asynchronous
path. A map takes part while it is Running and set synchronous (the default; `set_sync_mode`);
a paused map queues the change as always (and past its queue limits its tables refuse writes),
an asynchronous one leaves it to the worker, one not running does not sync at all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from dualwrite.control.models import DualWriteLink, FoEnvironment, PlatformEnvironment
from dualwrite.databases import make_engine
from dualwrite.engine.apply import Direction
from dualwrite.engine.states import MapState
from dualwrite.engine.sync import directions
from dualwrite.engine.synchronous import MappedWrites, apply_mapped, log_head
from dualwrite.link.links import link_maps
from dualwrite.maps.model import TableMap


@dataclass(frozen=True)
class LiveSync:
    """What a write to one side of a link does synchronously: the maps, in dependency order,
    that apply it to the other side now."""

    direction: Direction
    maps: tuple[TableMap, ...]
    all_maps: dict[str, TableMap]
    legal_entities: frozenset[str]
    target_url: str

    def begin(self, source: Connection) -> int:
        """Before the unit's writes: where the source's change log stands (see `apply`)."""
        return log_head(source)

    def apply(self, source: Connection, since: int, started: float) -> MappedWrites:
        """After the unit's writes, before the source commits: the mapped writes, held in an
        open transaction on the other side; commit it after the source, roll it back if the
        source does not commit. Raises DW5014/15/16 or DW2002 (nothing is then written)."""
        return apply_mapped(
            source,
            _engine(self.target_url),
            self.direction,
            self.maps,
            self.all_maps,
            self.legal_entities,
            since,
            started,
        )


def live_sync_for(
    session: Session, written: FoEnvironment | PlatformEnvironment
) -> LiveSync | None:
    """The synchronous part of writes to `written` (an F&O environment or a Dataverse), or
    None when no map of a link runs on it now."""
    if isinstance(written, FoEnvironment):
        query = select(DualWriteLink).where(DualWriteLink.fo_environment_id == written.id)
        direction: Direction = "fo_to_dv"
    else:
        query = select(DualWriteLink).where(DualWriteLink.platform_environment_id == written.id)
        direction = "dv_to_fo"
    link = session.scalar(query)
    if link is None:
        return None
    running = {
        s.name for s in link.table_maps if s.state == MapState.RUNNING.value and s.synchronous
    }
    if not running:
        return None
    maps = _maps(link)
    mine = tuple(m for m in maps if m.name in running and direction in directions(m))
    if not mine:
        return None
    target = (
        link.platform_environment.dataverse_url or ""
        if direction == "fo_to_dv"
        else link.fo_environment.data_store_url
    )
    return LiveSync(
        direction, mine, {m.name: m for m in maps}, frozenset(link.legal_entity_ids), target
    )


# --- caches: a write must not rebuild the link's maps or a connection pool each time ---------

_MAPS: dict[tuple[object, ...], list[TableMap]] = {}
_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _signature(link: DualWriteLink) -> tuple[object, ...]:
    """Everything the link's maps are built from (as the sync worker rebuilds them)."""
    solutions = tuple((s.id, s.version, str(s.applied_at)) for s in link.solutions)
    edits = tuple((m.name, m.field_directions, m.field_transforms) for m in link.table_maps)
    return (link.id, link.legal_entities, solutions, edits)


def _maps(link: DualWriteLink) -> list[TableMap]:
    key = _signature(link)
    with _LOCK:
        found = _MAPS.get(key)
    if found is None:
        found = link_maps(link)
        with _LOCK:
            for old in [k for k in _MAPS if k[0] == link.id]:
                del _MAPS[old]
            _MAPS[key] = found
    return found


def _engine(url: str) -> Engine:
    with _LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = make_engine(url)
        return _ENGINES[url]
