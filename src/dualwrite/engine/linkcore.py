"""The engine's view of one link: two data stores, the legal entities synced between them and
the published maps — what every stage (live, initial sync, errors, queues) works on."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, Engine, and_, func, select

from dualwrite.databases import make_engine, translate_errors
from dualwrite.engine.apply import Applier, Direction, Resolver, source_table
from dualwrite.engine.capture import ChangeReader, engine_origin, install_capture
from dualwrite.engine.capture.reader import Change, Scan, normalize_row
from dualwrite.engine.capture.schema import changelog
from dualwrite.engine.cursors import Cursor
from dualwrite.engine.plan import Plan
from dualwrite.engine.syncstate import ensure_sync_schema, get_position
from dualwrite.maps.model import TableMap
from dualwrite.maps.validate import dependency_order

if TYPE_CHECKING:  # the stream module builds on the apply stage, which builds on this one
    from dualwrite.engine.stream import Stream

Progress = Callable[[str, int, int], None]
Master = Literal["fo", "dataverse"]


def directions(tmap: TableMap) -> list[Direction]:
    """F&O → Dataverse always (the key flows); Dataverse → F&O when a field or lookup flows back."""
    return ["fo_to_dv", "dv_to_fo"] if tmap.flows_to_fo else ["fo_to_dv"]


@dataclass(frozen=True)
class BatchResult:
    applied: int
    skipped: int
    failed: int
    position: int
    # Per change: milliseconds from capture in the source to commit in the target (lag).
    latencies_ms: tuple[float, ...] = ()

    def plus(self, other: BatchResult) -> BatchResult:
        """Two results one after the other (several batches of one pass)."""
        return BatchResult(
            self.applied + other.applied,
            self.skipped + other.skipped,
            self.failed + other.failed,
            max(self.position, other.position),
            self.latencies_ms + other.latencies_ms,
        )


@dataclass
class LinkCore:
    """Two data stores, the legal entities synced between them, and the published maps."""

    fo_url: str
    dv_url: str
    legal_entities: frozenset[str]
    maps: Sequence[TableMap]
    batch_size: int = 500  # live sync: changes per batch (small batches, low latency)
    # Initial sync: rows per batch; by default ten live batches (5,000): rows read in key order
    # go in bulk, and issue 20 measured 16-20k rows/s at 500 against 31-50k at 5,000.
    initial_batch_size: int | None = None
    fo: Engine = field(init=False)
    dv: Engine = field(init=False)
    _readers: dict[tuple[str, str], ChangeReader] = field(default_factory=dict, init=False)
    # Per map and direction: the position stored in the target and how far the log was read.
    _cursors: dict[tuple[str, str], Cursor] = field(default_factory=dict, init=False)
    _scanners: dict[Direction, ChangeReader] = field(default_factory=dict, init=False)
    _plans: dict[tuple[str, str], Plan] = field(default_factory=dict, init=False)
    # Directions whose target's bookkeeping tables were checked by this Link (sync_batch).
    _bookkept: set[str] = field(default_factory=set, init=False)
    # The stream between the source and apply stages: None hands batches over directly.
    stream: Stream | None = None
    # Per direction and source table: the last read in a worker pass (see _read).
    _shared_reads: dict[tuple[str, str], tuple[Scan, int, list[Change], int]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        self.maps = dependency_order(self.maps)
        self.fo = make_engine(self.fo_url)
        self.dv = make_engine(self.dv_url)
        self.last_initial_sync: tuple[int, int, int] | None = None  # read, written, failed

    @property
    def by_name(self) -> dict[str, TableMap]:
        return {m.name: m for m in self.maps}

    def close(self) -> None:
        self.fo.dispose()
        self.dv.dispose()
        if self.stream is not None:
            self.stream.close()

    @property
    def initial_batch_rows(self) -> int:
        return self.initial_batch_size or self.batch_size * 10

    def source(self, direction: Direction) -> Engine:
        return self.fo if direction == "fo_to_dv" else self.dv

    def target(self, direction: Direction) -> Engine:
        return self.dv if direction == "fo_to_dv" else self.fo

    def prepare(self, tmap: TableMap) -> None:
        """Capture on both tables and engine bookkeeping on both stores (idempotent)."""
        for engine in (self.fo, self.dv):
            ensure_sync_schema(engine)
        install_capture(self.fo, [source_table(tmap, "fo_to_dv")])
        install_capture(self.dv, [source_table(tmap, "dv_to_fo")])

    def head(self, direction: Direction) -> int:
        """The source change log's last position: where live sync starts without history."""
        engine = self.source(direction)
        with translate_errors(engine.url), engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(changelog.c.position), 0))) or 0)

    def position(self, tmap: TableMap, direction: Direction) -> int | None:
        engine = self.target(direction)
        with translate_errors(engine.url), engine.connect() as conn:
            return get_position(conn, tmap.name, direction)

    @contextmanager
    def _applier(
        self,
        tmap: TableMap,
        direction: Direction,
        lookups: Connection | None = None,
    ) -> Iterator[tuple[Connection, Applier]]:
        """A target transaction (engine origin: not captured) and an applier working in it.
        F&O → Dataverse lookups read the target in that transaction, or `lookups` if given."""
        target = self.target(direction)
        with translate_errors(target.url), ExitStack() as stack:
            conn = stack.enter_context(target.connect())
            stack.enter_context(conn.begin())
            stack.enter_context(engine_origin(conn))
            if direction == "fo_to_dv":
                resolver = Resolver(self.by_name, lookups or conn)
                yield conn, Applier(tmap, direction, resolver, self.legal_entities)
            else:
                with reading(self.dv) as dv_conn:
                    resolver = Resolver(self.by_name, dv_conn)
                    yield conn, Applier(tmap, direction, resolver, self.legal_entities)

    def _source_row(
        self, direction: Direction, table: Any, key: dict[str, Any]
    ) -> dict[str, Any] | None:
        engine = self.source(direction)
        with engine.connect() as conn:
            found = (
                conn.execute(select(table).where(and_(*(table.c[k] == v for k, v in key.items()))))
                .mappings()
                .first()
            )
        return normalize_row(table, found) if found else None


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reading the source. On PostgreSQL it runs without a transaction (each
    statement sees what is committed, as in one), which spares a BEGIN and a ROLLBACK per batch;
    elsewhere switching would cost as much as it saves."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def reverse_of(tmap: TableMap, direction: Direction) -> Direction | None:
    reverse: Direction = "dv_to_fo" if direction == "fo_to_dv" else "fo_to_dv"
    return reverse if reverse in directions(tmap) else None


def refers_to_itself(tmap: TableMap) -> bool:
    """A lookup into the map's own records: applied one by one, each sees those before it."""
    return any(lookup.map == tmap.name for lookup in tmap.all_lookups())
