"""Inspecting one record of the error log: the error as recorded, the source record and the
target record as they are now (found through the map's integration key), and per mapped column
the source value, what the map would write (its transforms and lookups) and the target's value.

Error IDs are numbered by the data store that keeps them: the Dataverse store keeps the errors of
F&O → Dataverse, the F&O store those of Dataverse → F&O, so one ID can exist once per direction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, select

from dualwrite.bounds import within
from dualwrite.control.models import DualWriteLink, as_utc
from dualwrite.databases import translate_errors
from dualwrite.engine.apply import (
    Applier,
    Direction,
    RecordError,
    Resolver,
    source_table,
    target_table,
)
from dualwrite.engine.capture.reader import decode_row, normalize_row
from dualwrite.engine.sync import Link
from dualwrite.engine.syncstate import jsonable, sync_errors
from dualwrite.errors import ERR
from dualwrite.link.overview import engine_link
from dualwrite.maps.model import Lookup, TableMap, canonical, writes_dv, writes_fo
from dualwrite.maps.transforms import to_dataverse, to_fo
from dualwrite.schemas import FieldComparison, SyncErrorDetail

Row = dict[str, Any]
DIRECTIONS: tuple[Direction, ...] = ("fo_to_dv", "dv_to_fo")


def _plain_row(row: Row | None) -> Row | None:
    return None if row is None else {k: jsonable(v) for k, v in row.items()}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return bool(canonical(a) == canonical(b))


def _find_error(engine: Link, error_id: int, directions: tuple[Direction, ...]) -> list[Row]:
    names = list(engine.by_name)
    found: list[Row] = []
    for direction in directions:
        store = engine.target(direction)
        query = select(sync_errors).where(
            sync_errors.c.id == error_id,
            sync_errors.c.direction == direction,
            sync_errors.c.map_name.in_(names),
        )
        with translate_errors(store.url), store.connect() as conn:
            found += [dict(r) for r in conn.execute(query).mappings()]
    return found


def _fetch(conn: Connection, table: Table, key: Row) -> Row | None:
    if not key or any(v is None for v in key.values()):
        return None
    query = select(table).where(and_(*(table.c[k] == v for k, v in key.items())))
    row = conn.execute(query).mappings().first()
    return normalize_row(table, row) if row else None


def _too_long(table: Table, column: str, value: Any) -> str:
    limit = getattr(table.c[column].type, "length", None) if column in table.c else None
    if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
        return f"too long: {len(value)} characters, at most {limit}"
    return ""


class _Lookups:
    """Resolves the lookups the transforms list, keeping why one could not be resolved."""

    def __init__(self, resolver: Resolver, direction: Direction, source: Row) -> None:
        self.resolver, self.direction, self.source = resolver, direction, source
        self.company_guid: str | None = None

    def resolve(self, lookup: Lookup, is_company: bool) -> tuple[Any, str]:
        try:
            if self.direction == "dv_to_fo":
                return self.resolver.from_guid(lookup, self.source.get(lookup.dv)), ""
            guid = self.resolver.to_guid(
                lookup, self.source.get(lookup.fo), None if is_company else self.company_guid
            )
            if is_company:
                self.company_guid = guid
            return guid, ""
        except RecordError as error:
            return None, str(error)


def _comparisons(
    tmap: TableMap,
    direction: Direction,
    source: Row | None,
    target: Row | None,
    resolver: Resolver,
) -> list[FieldComparison]:
    to_dv = direction == "fo_to_dv"
    table = target_table(tmap, direction)
    transform = to_dataverse if to_dv else to_fo
    values: Row = transform(tmap, source)[0] if source is not None else {}
    writes: Callable[[Any], bool] = writes_dv if to_dv else writes_fo
    lookups = _Lookups(resolver, direction, source or {})
    out: list[FieldComparison] = []

    def add(kind: str, fo: str, dv: str, written: bool, would: Any, note: str = "") -> None:
        src, dst = (fo, dv) if to_dv else (dv, fo)
        current = target.get(dst) if target is not None else None
        if written and source is not None:
            note = note or _too_long(table, dst, would)
            differs = target is None or not _same(would, current)
        else:
            differs = False
            note = note or ("" if written else "flows the other way: not written")
        out.append(
            FieldComparison(
                kind=kind,
                source_column=src,
                target_column=dst,
                written=written,
                source_value=jsonable(source.get(src)) if source is not None else None,
                would_write=jsonable(would) if written else None,
                target_value=jsonable(current),
                differs=differs,
                note=note,
            )
        )

    for fo, dv in tmap.key:
        add("key", fo, dv, True, values.get(dv if to_dv else fo))
    for lookup in tmap.all_lookups():
        is_company = lookup is tmap.company
        written = is_company or writes(lookup.direction)
        would, why = lookups.resolve(lookup, is_company) if written and source else (None, "")
        kind = "company" if is_company else f"lookup through {lookup.map}"
        add(kind, lookup.fo, lookup.dv, written, would, why)
    for fm in tmap.fields:
        written = writes(fm.direction)
        add("field", fm.fo, fm.dv, written, values.get(fm.dv if to_dv else fm.fo))
    return out


def inspect_error(
    link: DualWriteLink, error_id: int, direction: str | None = None
) -> SyncErrorDetail:
    """One error of the link's error log (any status) with both sides' records as they are now.
    `direction` picks between two errors with the same ID; unknown IDs are DW5013."""
    within("error_id", error_id)
    if direction is not None and direction not in DIRECTIONS:
        raise ERR.INVALID_INPUT.error(
            field="direction", problem=f"'{direction}' is not one of {', '.join(DIRECTIONS)}"
        )
    wanted = tuple(d for d in DIRECTIONS if direction in (None, d))
    env = link.fo_environment.name
    with engine_link(link) as engine:
        found = _find_error(engine, error_id, wanted)
        if not found:
            where = f" ({direction})" if direction else ""
            raise ERR.NO_SYNC_ERROR.error(id=error_id, name=env, where=where)
        if len(found) > 1:
            both = "; ".join(f"{e['direction']}: {e['map_name']}" for e in found)
            raise ERR.INVALID_INPUT.error(
                field="direction",
                problem=f"error {error_id} exists in both directions ({both}); say which one",
            )
        error = found[0]
        return _detail(link, engine, error)


def _detail(link: DualWriteLink, engine: Link, error: Row) -> SyncErrorDetail:
    direction: Direction = error["direction"]
    tmap = engine.by_name[error["map_name"]]
    source_tbl, target_tbl = source_table(tmap, direction), target_table(tmap, direction)
    key = decode_row(source_tbl, error["source_key"]) or {}
    fo_name, dv_name = link.fo_environment.name, link.platform_environment.name
    source_store, target_store = (
        (fo_name, dv_name) if direction == "fo_to_dv" else (dv_name, fo_name)
    )
    with (
        translate_errors(engine.fo.url),
        engine.fo.connect() as fo_conn,
        translate_errors(engine.dv.url),
        engine.dv.connect() as dv_conn,
    ):
        sconn, tconn = (fo_conn, dv_conn) if direction == "fo_to_dv" else (dv_conn, fo_conn)
        source = _fetch(sconn, source_tbl, key)
        resolver = Resolver(engine.by_name, dv_conn)
        applier = Applier(tmap, direction, resolver, engine.legal_entities)
        source_note = target_note = ""
        if source is None:
            source_note = (
                f"The {source_tbl.name} record no longer exists in {source_store}: a retry "
                f"deletes it from {target_store}."
            )
        else:
            try:
                if not applier.matches(source):
                    source_note = (
                        "The record is outside the map's filters or synced legal entities now: "
                        "a retry skips it."
                    )
            except RecordError as why:
                source_note = str(why)
        target_key: Row | None
        try:
            target_key = applier.target_key(source if source is not None else key)
        except RecordError as why:
            target_key, target_note = None, f"The target record cannot be looked up: {why}"
        target = _fetch(tconn, target_tbl, target_key) if target_key else None
        if target_key is not None and target is None:
            shown = ", ".join(f"{k} {v!r}" for k, v in target_key.items())
            target_note = f"No {target_tbl.name} record with {shown} exists in {target_store}" + (
                ": a retry would create it." if source is not None else "."
            )
        fields = _comparisons(tmap, direction, source, target, resolver)
    payload = json.loads(error["payload"]) if error["payload"] else None
    return SyncErrorDetail(
        id=error["id"],
        map_name=error["map_name"],
        direction=direction,
        status=error["status"],
        reason=error["reason"],
        attempts=error["attempts"],
        created_at=as_utc(error["created_at"]),
        updated_at=as_utc(error["updated_at"]),
        source_side="fo" if direction == "fo_to_dv" else "dataverse",
        source_store=source_store,
        source_table=source_tbl.name,
        source_key=_plain_row(key) or {},
        payload=payload,
        source_record=_plain_row(source),
        source_note=source_note,
        target_store=target_store,
        target_table=target_tbl.name,
        target_key=_plain_row(target_key),
        target_record=_plain_row(target),
        target_note=target_note,
        fields=fields,
    )
