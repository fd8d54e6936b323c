"""Dataverse change tracking over the store's change log (`dw_changelog`, filled by the capture
triggers in the writer's own transaction — also for plain SQL writes).

`Prefer: odata.track-changes` on a collection read turns capture on for the table when it is
off (like enabling change tracking), notes the log's last position before reading, and the
last page carries `@odata.deltaLink` with that position in a signed `$deltatoken`. A GET of
the delta link returns the rows changed since: their current values (new or updated), or
`$deletedEntity` with reason "deleted" once gone, read in commit order by the engine's
ChangeReader (which never skips a position still in flight), and a new delta link.

Not seen: writes the sync engine itself applies (it marks them so the log does not echo them)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from dualwrite.databases import READS_ONLY
from dualwrite.engine.capture import ChangeReader, install_capture, installed_tables
from dualwrite.engine.capture.schema import changelog
from dualwrite.envapi.dvcontext import DvContext
from dualwrite.envapi.stores import engine_for
from dualwrite.odata import tokens
from dualwrite.odata.errors import bad_request
from dualwrite.odata.model import EntitySet
from dualwrite.odata.query import QueryOptions
from dualwrite.odata.reader import mapping_shaper

DELTA_PURPOSE = "deltatoken"

# One reader per store and table, kept across requests: a reader remembers the gaps it has
# seen (a rolled-back transaction's positions), which it may skip only once they are settled.
_readers: dict[tuple[str, str], ChangeReader] = {}
_readers_lock = threading.Lock()


def _reader(url: str, entity: EntitySet) -> ChangeReader:
    with _readers_lock:
        key = (url, entity.table.name)
        if key not in _readers:
            _readers[key] = ChangeReader(engine_for(url), [entity.table])
        return _readers[key]


def _refuse_options(options: QueryOptions) -> None:
    for name, given in (
        ("$filter", options.filter),
        ("$orderby", options.orderby),
        ("$top", options.top),
        ("$expand", options.expand),
        ("$count", options.count),
    ):
        if given:
            raise bad_request(f"The query option {name} is not supported with change tracking.")


def tracking_carry(
    ctx: DvContext, entity: EntitySet, options: QueryOptions, track: bool
) -> dict[str, Any] | None:
    """For the first page of a tracked read: capture on, and the log position to start from."""
    if not track or options.skiptoken:
        return None
    _refuse_options(options)
    engine = ctx.engine
    if entity.table.name not in installed_tables(engine):
        install_capture(engine, [entity.table])
    with engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        return {"position": _safe_start(conn)}


RECENT = 1000  # how far back a start position looks for positions still in flight


def _safe_start(conn: Any) -> int:
    """The log position a delta starts after: the last one before any gap among the recent
    positions. A gap may be a transaction still in flight (PostgreSQL and MariaDB hand out
    positions before commit); starting before it may send a few records again as updated,
    never miss one."""
    last = int(conn.scalar(select(func.coalesce(func.max(changelog.c.position), 0))) or 0)
    if conn.dialect.name == "sqlite":  # one writer at a time: positions are commit order
        return last
    recent = conn.scalars(
        select(changelog.c.position)
        .where(changelog.c.position > last - RECENT)
        .order_by(changelog.c.position)
    ).all()
    previous = max(0, last - RECENT)
    for position in recent:
        if position != previous + 1:
            return previous
        previous = position
    return last


def with_delta_link(
    ctx: DvContext,
    entity: EntitySet,
    options: QueryOptions,
    document: dict[str, Any],
    position: int,
    *,
    more: bool = False,
) -> None:
    token = tokens.sign(
        ctx.secret, DELTA_PURPOSE, {"p": position, "s": entity.name, "q": options.fingerprint()}
    )
    query = options.encoded(("$deltatoken", token))
    document["@odata.nextLink" if more else "@odata.deltaLink"] = (
        f"{ctx.base}/{entity.name}?{query}"
    )


def read_changes(ctx: DvContext, entity: EntitySet, options: QueryOptions, size: int) -> Any:
    from dualwrite.envapi.http import ApiResponse

    _refuse_options(options)
    state = tokens.verify(ctx.secret, DELTA_PURPOSE, str(options.deltatoken), "$deltatoken")
    if state.get("s") != entity.name or state.get("q") != options.fingerprint():
        raise bad_request("The $deltatoken does not belong to this entity set and query.")
    position = int(state["p"])
    reader = _reader(ctx.grant.store_url, entity)
    pk = entity.key[0].column.name
    changed: dict[Any, dict[str, Any] | None] = {}
    more = False
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        retried = False
        while True:
            changes, upto = reader.read(position, conn)
            conn.rollback()  # a fresh snapshot for the next look
            if upto == position:
                if retried:
                    break
                retried = True  # a gap seen just now may already be settled: look once more
                continue
            position = upto
            for change in changes:
                changed.pop(change.key[pk], None)  # keep commit order of the last change
                changed[change.key[pk]] = change.row
            if len(changed) >= size:
                more = True
                break
    shape = mapping_shaper(entity, options.select, ctx.flavor)
    deleted = ctx.context(f"{entity.name}/$deletedEntity")
    rows = [
        shape(row)
        if row is not None
        else {"@odata.context": deleted, "id": key, "reason": "deleted"}
        for key, row in changed.items()
    ]
    selected = f"({','.join(options.select)})" if options.select else ""
    document: dict[str, Any] = {"@odata.context": ctx.context(f"{entity.name}{selected}/$delta")}
    document["value"] = rows
    with_delta_link(ctx, entity, options, document, position, more=more)
    return ApiResponse.json(200, document, **{"Preference-Applied": "odata.track-changes"})
