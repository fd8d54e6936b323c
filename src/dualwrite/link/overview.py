"""What a link's maps are doing: queued changes per direction, and the error log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import func, select

from dualwrite.bounds import within
from dualwrite.control.models import DualWriteLink
from dualwrite.databases import translate_errors
from dualwrite.engine.apply import source_table
from dualwrite.engine.capture.schema import changelog, ensure_capture_schema
from dualwrite.engine.sync import Link, directions
from dualwrite.engine.syncstate import change_counts, ensure_sync_schema, get_position
from dualwrite.errors import ERR, UnavailableError
from dualwrite.link.availability import Outage, unreachable_reason
from dualwrite.link.links import link_maps
from dualwrite.maps.model import TableMap
from dualwrite.schemas import ChangeCounts, QueuedRead, SyncErrorRead, TableMapRead


@contextmanager
def engine_link(link: DualWriteLink) -> Iterator[Link]:
    """The engine's view of a control-store link, with its own connections, closed afterwards."""
    engine = Link(
        link.fo_environment.data_store_url,
        link.platform_environment.dataverse_url or "",
        frozenset(link.legal_entity_ids),
        link_maps(link),
    )
    try:
        for store in (engine.fo, engine.dv):  # idempotent: the tables exist once a map has run
            ensure_sync_schema(store)
            ensure_capture_schema(store)
        yield engine
    finally:
        engine.close()


def queued_of(engine: Link, name: str) -> dict[str, int]:
    """Per direction: captured changes the map has not applied yet."""
    return _flow(engine, name)[0]


def _flow(engine: Link, name: str) -> tuple[dict[str, int], dict[str, ChangeCounts]]:
    """Per direction: captured changes not applied yet (what a paused map is holding), and the
    running totals of changes captured, applied, failed and skipped."""
    tmap = engine.by_name[name]
    queued: dict[str, int] = {}
    counts: dict[str, ChangeCounts] = {}
    for direction in directions(tmap):
        target = engine.target(direction)
        with translate_errors(target.url), target.connect() as conn:
            position = get_position(conn, tmap.name, direction)
            taken, applied, failed, skipped = change_counts(conn, tmap.name, direction)
        waiting = 0
        if position is not None:
            source = engine.source(direction)
            with translate_errors(source.url), source.connect() as conn:
                query = select(func.count()).where(
                    changelog.c.position > position,
                    changelog.c.table_name == source_table(tmap, direction).name,
                )
                waiting = int(conn.scalar(query) or 0)
        queued[direction] = waiting
        counts[direction] = ChangeCounts(
            captured=taken + waiting,
            applied=applied,
            failed=failed,
            skipped=skipped,
        )
    return queued, counts


def describe_maps(link: DualWriteLink, outages: Sequence[Outage] = ()) -> list[TableMapRead]:
    """Every published map with its state, progress and queue, in dependency order. When a
    data store does not answer (or `outages` says so), the maps come from the control store
    alone, their queue and counters marked unavailable: states, Stop and Force Not running
    need no data store (seed 002)."""
    why = outages[0].reason if outages else None
    if why is None:
        try:
            with engine_link(link) as engine:
                return [
                    _read(link, t, *_flow(engine, t.name)) for t in _published(link, engine.maps)
                ]
        except UnavailableError as error:
            why = unreachable_reason(link, error)
    return [_read(link, t, None, None, why) for t in _published(link, link_maps(link))]


def _published(link: DualWriteLink, maps: Sequence[TableMap]) -> list[TableMap]:
    """The maps with a state on the link, in the dependency order `maps` come in."""
    have = {m.name for m in link.table_maps}
    return [t for t in maps if t.name in have]


def _read(
    link: DualWriteLink,
    tmap: TableMap,
    queued: dict[str, int] | None,
    counts: dict[str, ChangeCounts] | None,
    unavailable: str | None = None,
) -> TableMapRead:
    state = next(m for m in link.table_maps if m.name == tmap.name)
    return TableMapRead(
        name=tmap.name,
        solution=state.solution,
        fo_entity=tmap.fo,
        dataverse_table=tmap.dv,
        state=state.state,
        directions=list(directions(tmap)),
        depends_on=list(tmap.depends_on),
        initial_sync=state.initial_sync,
        master=state.master,
        progress_done=state.progress_done,
        progress_total=state.progress_total,
        queued=queued,
        changes=counts,
        figures_unavailable=unavailable,
        queue_max_age_seconds=state.queue_max_age_seconds,
        queue_max_bytes=state.queue_max_bytes,
        synchronous=state.synchronous,
        last_error=state.last_error,
    )


def list_errors(link: DualWriteLink, map_name: str | None = None) -> list[SyncErrorRead]:
    with engine_link(link) as engine:
        if map_name and map_name not in engine.by_name:
            raise ERR.NO_MAPS.error(name=map_name)
        maps = [engine.by_name[map_name]] if map_name else list(engine.maps)
        out: list[SyncErrorRead] = []
        for tmap in maps:
            for direction in directions(tmap):
                rows = engine.open_errors(tmap, direction)
                out += [SyncErrorRead.model_validate(row) for row in rows]
        return out


MAX_QUEUE_PAGE = 1000


def queued_records(
    link: DualWriteLink, map_name: str, after: int | None = None, limit: int = 50
) -> list[QueuedRead]:
    """One page of a map's queued changes (all directions), oldest first; pass the last
    position seen as `after` for the next page."""
    within("limit", limit, 1, MAX_QUEUE_PAGE)
    if after is not None:
        within("after", after)
    with engine_link(link) as engine:
        tmap = engine.by_name.get(map_name)
        if tmap is None:
            raise ERR.NO_MAPS.error(name=map_name)
        rows = [r for d in directions(tmap) for r in engine.list_queued(tmap, d, after, limit)]
    rows.sort(key=lambda r: (r["captured_at"], r["position"]))
    return [QueuedRead.model_validate(r) for r in rows[:limit]]


def retry_errors(
    link: DualWriteLink, map_name: str, error_id: int | None = None
) -> tuple[int, int]:
    """Retry a map's open errors (or only `error_id`) in each direction: (fixed, failing)."""
    if error_id is not None:
        within("id", error_id)
    with engine_link(link) as engine:
        tmap = engine.by_name.get(map_name)
        if tmap is None:
            raise ERR.NO_MAPS.error(name=map_name)
        fixed = failing = 0
        for direction in directions(tmap):
            done, left = engine.retry_errors(tmap, direction, error_id)
            fixed, failing = fixed + done, failing + left
        return fixed, failing
