"""The one write path of the environment APIs: every create, update, upsert and delete of the
Dataverse Web API and of finance and operations OData — single requests, CreateMultiple and
UpsertMultiple, `$batch` change sets — goes through `write_rows`, one data store transaction
per call.

    write_rows(store_url, side, operations, etag_of=..., live_sync=None) -> list[Written]

opens the store's transaction, applies the operations in order with their checks (the row a
key names, ETag preconditions, required columns, alternate keys still unique, lookups that
exist), and commits. Nothing is written when any operation fails.

Synchronous dual-write (`live_sync`, the link's running maps for this side): after the last
operation, in the same unit of work, the mapped writes are applied to the other side
(`link.live_writes`, the engine's apply step). If that fails — a lookup missing, a value the
other side refuses, the other side unreachable, over Microsoft's limits — nothing is written
on either side and the caller answers the error, naming the table map and the reason, in its
platform's shape. This side commits first, then the other (see `engine/synchronous.py`).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

from sqlalchemy import Connection, ForeignKeyConstraint, Table, and_, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from dualwrite.databases import translate_errors, writing
from dualwrite.engine.synchronous import MappedWrites
from dualwrite.envapi.stores import engine_for
from dualwrite.errors import DualWriteError
from dualwrite.link.live_writes import LiveSync
from dualwrite.odata.errors import (
    DUPLICATE,
    NOT_FOUND,
    VALIDATION,
    ODataError,
)
from dualwrite.odata.etags import check_preconditions
from dualwrite.odata.filters import db_moment
from dualwrite.odata.model import EntitySet
from dualwrite.stores.datastore import Side

log = logging.getLogger("dualwrite.envapi")

MAX_OPERATIONS = 1000  # Microsoft's limit of records per transaction (and per $batch)

Row = dict[str, Any]


class OpKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"  # the row must exist
    UPSERT = "upsert"  # update if it exists, else create with the key's values
    DELETE = "delete"


@dataclass(frozen=True)
class Operation:
    kind: OpKind
    entity: EntitySet
    key: Row  # column → value: the primary key or an (alternate) key; creates: their key
    values: Row = field(default_factory=dict)  # column → value, already type-checked
    if_match: str | None = None
    if_none_match: str | None = None
    create_values: Row = field(default_factory=dict)  # only when it creates (a new id)


@dataclass(frozen=True)
class Written:
    """One row written: what the synchronous dual-write step maps to the other side."""

    table: str
    entity_set: str
    key: Row  # primary key columns → value
    operation: Literal["create", "update", "delete"]
    values: Row | None  # every column after the write; None once deleted
    previous: Row | None  # every column before the write; None for creates


EtagOf = Callable[[EntitySet, Row], str]


class WriteError(ODataError):
    """A write refused by a check: `reason` is the platform-neutral cause; `index` the
    operation it belongs to (a `$batch` part)."""

    def __init__(
        self, status: int, reason: str, code: str, *, index: int, entity: EntitySet
    ) -> None:
        super().__init__(status, reason, code)
        self.reason = reason
        self.index = index
        self.entity = entity


def _now(conn: Connection) -> datetime:
    return db_moment(datetime.now(UTC), conn.dialect.name == "postgresql")


def _audit(side: Side, table: Table, kind: OpKind, conn: Connection) -> Row:
    now = _now(conn)
    if side is Side.DATAVERSE:
        stamps = {"modifiedon": now} | ({"createdon": now} if kind is OpKind.CREATE else {})
    else:
        stamps = {"modifieddatetime": now}
    return {k: v for k, v in stamps.items() if k in table.c}


def _key_text(key: Row) -> str:
    return ",".join(str(v) for v in key.values())


class _Batch:
    def __init__(self, conn: Connection, side: Side, etag_of: EtagOf) -> None:
        self.conn, self.side, self.etag_of = conn, side, etag_of
        self.locking = conn.dialect.name != "sqlite"  # SQLite's write lock covers it all

    def fail(self, index: int, entity: EntitySet, status: int, reason: str, code: str) -> NoReturn:
        raise WriteError(status, reason, code, index=index, entity=entity)

    def current(self, index: int, entity: EntitySet, key: Row) -> Row | None:
        table = entity.table
        query = select(table).where(*(table.c[c] == v for c, v in key.items())).limit(2)
        if self.locking:
            query = query.with_for_update()
        rows = [dict(r) for r in self.conn.execute(query).mappings()]
        if len(rows) > 1:
            self.fail(
                index,
                entity,
                400,
                "The key matches more than one record: give every part of the alternate key.",
                VALIDATION,
            )
        return rows[0] if rows else None

    def apply(self, index: int, op: Operation) -> Written:
        entity, table = op.entity, op.entity.table
        existing = self.current(index, entity, op.key)
        try:
            check_preconditions(
                op.if_match,
                op.if_none_match,
                self.etag_of(entity, existing) if existing is not None else None,
                entity=entity.type_name,
                key_text=_key_text(op.key),
            )
        except ODataError as exc:
            raise WriteError(
                exc.status, exc.message, exc.code, index=index, entity=entity
            ) from None
        kind = op.kind
        if kind is OpKind.UPSERT:
            kind = OpKind.UPDATE if existing is not None else OpKind.CREATE
        if kind is OpKind.CREATE and existing is not None:
            self.fail(
                index, entity, 412, "A record with matching key values already exists.", DUPLICATE
            )
        if kind in (OpKind.UPDATE, OpKind.DELETE) and existing is None:
            self.fail(
                index,
                entity,
                404,
                f"{entity.type_name} With Id = {_key_text(op.key)} Does Not Exist",
                NOT_FOUND,
            )
        pk = [c.name for c in table.primary_key.columns]
        if kind is OpKind.DELETE:
            assert existing is not None  # noqa: S101 - checked above
            where = [table.c[c] == existing[c] for c in pk]
            self.execute(index, entity, delete(table).where(*where))
            return Written(
                table.name, entity.name, {c: existing[c] for c in pk}, "delete", None, existing
            )
        if kind is OpKind.CREATE:
            stamps = _audit(self.side, table, kind, self.conn)
            values = {**op.create_values, **op.key, **op.values, **stamps}
            self.check_required(index, entity, values)
            self.check_unique(index, entity, values, None)
            self.check_lookups(index, entity, values)
            result = self.execute(index, entity, insert(table).values(values))
            new_key = {c: values.get(c) for c in pk}
            if any(v is None for v in new_key.values()):
                inserted = result.inserted_primary_key
                new_key = dict(zip(pk, inserted or (), strict=False))
            after = self.current(index, entity, new_key)
            return Written(table.name, entity.name, new_key, "create", after, None)
        assert existing is not None  # noqa: S101 - an update of a row that exists
        values = {**op.values, **_audit(self.side, table, kind, self.conn)}
        merged = {**existing, **values}
        self.check_required(index, entity, merged)
        self.check_unique(index, entity, merged, existing)
        self.check_lookups(index, entity, values)
        where = [table.c[c] == existing[c] for c in pk]
        self.execute(index, entity, update(table).where(*where).values(values))
        key = {c: merged[c] for c in pk}
        after = self.current(index, entity, key)
        return Written(table.name, entity.name, key, "update", after, existing)

    def execute(self, index: int, entity: EntitySet, statement: Any) -> Any:
        # No savepoint: any failure rolls the whole transaction back.
        try:
            return self.conn.execute(statement)
        except IntegrityError as exc:
            self.fail(index, entity, 412, _integrity_reason(exc), DUPLICATE)
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise
            self.fail(index, entity, 400, _driver_reason(exc), VALIDATION)

    def check_required(self, index: int, entity: EntitySet, values: Row) -> None:
        for column in entity.table.columns:
            if column.nullable or column.server_default is not None or column.autoincrement is True:
                continue
            if values.get(column.name) is None:
                prop = entity.by_column.get(column.name)
                name = prop.name if prop else column.name
                self.fail(
                    index,
                    entity,
                    400,
                    f"A validation error occurred. The attribute '{name}' of the "
                    f"'{entity.type_name}' entity is required and has no value.",
                    VALIDATION,
                )

    def check_unique(
        self, index: int, entity: EntitySet, values: Row, existing: Row | None
    ) -> None:
        table = entity.table
        for key in [p for p in entity.alternate_keys] + [entity.key]:
            columns = [p.column.name for p in key]
            if any(values.get(c) is None for c in columns):
                continue
            if existing is not None and all(existing.get(c) == values[c] for c in columns):
                continue
            where = [table.c[c] == values[c] for c in columns]
            if existing is not None:
                pk = [c.name for c in table.primary_key.columns]
                where.append(~and_(*(table.c[c] == existing[c] for c in pk)))
            if self.conn.execute(select(1).select_from(table).where(*where).limit(1)).first():
                names = ", ".join(p.name for p in key)
                self.fail(
                    index,
                    entity,
                    412,
                    f"A record with matching key values already exists. ({names})",
                    DUPLICATE,
                )

    def check_lookups(self, index: int, entity: EntitySet, values: Row) -> None:
        table = entity.table
        for fk in table.constraints:
            if not isinstance(fk, ForeignKeyConstraint):
                continue
            local = list(fk.column_keys)
            if not any(c in values for c in local):
                continue
            wanted = [values.get(c) for c in local]
            if any(v is None for v in wanted):
                continue
            target = fk.referred_table
            remote = [e.column for e in fk.elements]
            where = [col == v for col, v in zip(remote, wanted, strict=True)]
            if self.conn.execute(select(1).select_from(target).where(*where).limit(1)).first():
                continue
            shown = ", ".join(
                (entity.by_column[c].name if c in entity.by_column else c) for c in local
            )
            self.fail(
                index,
                entity,
                400,
                f"{target.name} With Id = {','.join(map(str, wanted))} Does Not Exist "
                f"(lookup {shown})",
                NOT_FOUND,
            )


def _integrity_reason(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return "A record with matching key values already exists."
    return f"The record breaks a rule of the data store: {str(exc.orig).splitlines()[0]}"


def _driver_reason(exc: DBAPIError) -> str:
    return f"The data store refused the value: {str(exc.orig).splitlines()[0]}"


def check_limit(count: int) -> None:
    if count > MAX_OPERATIONS:
        raise ODataError(
            400,
            f"The request has {count} operations; at most {MAX_OPERATIONS} records can be "
            "written in one transaction.",
            "0x80040203",
        )


def write_rows(
    store_url: str,
    side: Side,
    operations: Sequence[Operation],
    *,
    etag_of: EtagOf,
    live_sync: LiveSync | None = None,
) -> list[Written]:
    """Apply `operations` in one transaction of the data store at `store_url`, and with
    `live_sync` their mapped writes on the other side; see the module docstring."""
    check_limit(len(operations))
    if not operations:
        return []
    engine = engine_for(store_url)
    started = time.monotonic()
    mapped: MappedWrites | None = None
    try:
        with translate_errors(engine.url), writing(engine) as conn:
            since = live_sync.begin(conn) if live_sync else 0
            batch = _Batch(conn, side, etag_of)
            written = [batch.apply(i, op) for i, op in enumerate(operations)]
            if live_sync is not None:
                mapped = _mapped_writes(live_sync, conn, since, started)
    except BaseException:
        if mapped is not None:
            mapped.rollback()
        raise
    if mapped is not None:
        _commit_other_side(mapped)
    return written


def _mapped_writes(
    live_sync: LiveSync, conn: Connection, since: int, started: float
) -> MappedWrites:
    try:
        return live_sync.apply(conn, since, started)
    except DualWriteError as error:  # the catalogue's reason, in the platform's error shape
        code = "0x80040265" if error.status < 500 else "0x80040216"  # ISV code aborted / unexpected
        raise ODataError(
            400 if error.status < 500 else error.status, error.message, code
        ) from error


def _commit_other_side(mapped: MappedWrites) -> None:
    """This side has committed. Should the other side's commit fail now, its changes are still
    in this side's change log without a mark: the sync worker applies them like any write."""
    try:
        mapped.commit()
    except (DualWriteError, DBAPIError) as error:
        log.warning(
            "synchronous dual-write: the other side did not commit (%s); the sync worker "
            "catches up",
            error,
            extra={"maps": ", ".join(mapped.maps)},
        )
