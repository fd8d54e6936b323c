"""Preparing an environment's data store (create or adopt the schema) and reading its basics."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, MetaData, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from dualwrite.databases import WRITES, display_url, make_engine, parse_url, translate_errors
from dualwrite.errors import ERR
from dualwrite.stores import dataverse, fo


class Side(StrEnum):
    FO = "fo"
    DATAVERSE = "dataverse"

    @property
    def label(self) -> str:
        return "finance and operations" if self is Side.FO else "Dataverse"


def metadata_for(side: Side | str) -> MetaData:
    """The reference schema of one side."""
    return fo.metadata if Side(side) is Side.FO else dataverse.metadata


@dataclass(frozen=True)
class DataStoreReport:
    url: str
    side: Side
    created: bool  # False: an existing store with the full schema was adopted as it is
    tables: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "created" if self.created else "existing"


@dataclass(frozen=True)
class SchemaGap:
    """What a database lacks of a side's reference schema."""

    missing_tables: tuple[str, ...]
    missing_columns: tuple[str, ...]  # `table.column` of tables that do exist
    expected_tables: int

    @property
    def complete(self) -> bool:
        return not self.missing_tables and not self.missing_columns

    @property
    def absent(self) -> bool:
        """None of the side's tables exists (unrelated tables may)."""
        return len(self.missing_tables) == self.expected_tables

    def describe(self) -> str:
        problems = []
        if self.missing_tables:
            problems.append(f"missing tables {', '.join(self.missing_tables)}")
        if self.missing_columns:
            problems.append(f"missing columns {', '.join(self.missing_columns)}")
        return "; ".join(problems)


_COMPANY = re.compile(r"[A-Za-z0-9]{1,4}")


@dataclass(frozen=True)
class LegalEntity:
    id: str
    name: str


# Code -> (name, country/region, accounting currency) of the companies the demo data knows.
KNOWN_COMPANIES = {
    "USMF": ("Contoso Entertainment System USA", "USA", "USD"),
    "DEMF": ("Contoso Entertainment System Germany", "DEU", "EUR"),
    "GBSI": ("Contoso Entertainment System UK", "GBR", "GBP"),
    "USRT": ("Contoso Retail USA", "USA", "USD"),
    "FRRT": ("Contoso Retail France", "FRA", "EUR"),
}


def company_name(code: str) -> str:
    """The legal entity's name; codes we do not know get a generic one."""
    return KNOWN_COMPANIES[code][0] if code in KNOWN_COMPANIES else f"Company {code}"


@contextmanager
def connected(url: str) -> Iterator[Engine]:
    """An engine for `url` whose connection failures are DW2002, disposed afterwards."""
    engine = make_engine(parse_url(url))
    try:
        with translate_errors(engine.url):
            yield engine
    finally:
        engine.dispose()


def schema_gap(engine: Engine, metadata: MetaData) -> SchemaGap:
    """Compare the database with `metadata`: extra tables and columns do not count."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    missing_tables = [t.name for t in metadata.sorted_tables if t.name not in present]
    missing_columns: list[str] = []
    for table in metadata.sorted_tables:
        if table.name in present:
            have = {c["name"].lower() for c in inspector.get_columns(table.name)}
            missing_columns += [
                f"{table.name}.{c.name}" for c in table.columns if c.name not in have
            ]
    return SchemaGap(tuple(missing_tables), tuple(missing_columns), len(metadata.tables))


def _create(engine: Engine, metadata: MetaData) -> None:
    try:
        # One transaction: SQLite and PostgreSQL roll back every CREATE if one fails.
        with engine.execution_options(**{WRITES: True}).begin() as conn:
            metadata.create_all(conn)
    except SQLAlchemyError:
        if engine.dialect.name in ("mysql", "mariadb"):
            # MariaDB commits each CREATE TABLE on its own. None of these tables existed before
            # (checked by the caller), so dropping them leaves the database as we found it.
            with suppress(SQLAlchemyError):
                metadata.drop_all(engine, checkfirst=True)
        raise


def prepare_data_store(url: str, side: Side | str) -> DataStoreReport:
    """Create the side's schema in an empty database, adopt a database that already has it, and
    refuse a partial one before creating anything, naming what is missing."""
    side = Side(side)
    metadata = metadata_for(side)
    tables = tuple(t.name for t in metadata.sorted_tables)
    with connected(url) as engine:
        gap = schema_gap(engine, metadata)
        if gap.complete:
            return DataStoreReport(url=url, side=side, created=False, tables=tables)
        if not gap.absent:
            raise ERR.DATA_STORE_INCOMPLETE.error(
                url=display_url(url), side=side.label, problems=gap.describe()
            )
        _create(engine, metadata)
    return DataStoreReport(url=url, side=side, created=True, tables=tables)


def drop_data_store(url: str, side: Side | str) -> None:
    """Undo `prepare_data_store` that created the schema (a setup job that failed later)."""
    with connected(url) as engine:
        metadata_for(side).drop_all(engine, checkfirst=True)


def require_tables(engine: Engine, url: str, side: Side, names: Iterable[str]) -> None:
    """Refuse to read or write a store that was never prepared, instead of a driver error."""
    present = set(inspect(engine).get_table_names())
    if missing := [n for n in names if n not in present]:
        raise ERR.INVALID_INPUT.error(
            field="data store",
            problem=f"{display_url(url)} has no {side.label} schema "
            f"(missing tables {', '.join(missing)}); prepare the data store first",
        )


def check_company_codes(codes: Iterable[str]) -> None:
    """Legal entity IDs are what `dataareaid` holds everywhere: 1-4 letters or digits."""
    if bad := [c for c in codes if not _COMPANY.fullmatch(c)]:
        raise ERR.INVALID_INPUT.error(
            field="legal entities",
            problem=f"{', '.join(map(repr, bad))}: a legal entity ID is 1-4 letters or digits, "
            "like USMF",
        )


def ensure_legal_entities(url: str, codes: Sequence[str]) -> list[LegalEntity]:
    """Add the legal entities (companies) an F&O environment is deployed with, if absent."""
    check_company_codes(codes)
    table = fo.legalentities
    with connected(url) as engine:
        require_tables(engine, url, Side.FO, [table.name])
        with engine.execution_options(**{WRITES: True}).begin() as conn:  # reads, then adds
            # MariaDB's collation takes `usmf` for `USMF`: compare as it does.
            fold = str.casefold if conn.dialect.name in ("mysql", "mariadb") else str
            have = {fold(c) for c in conn.scalars(select(table.c.legalentityid))}
            rows = []
            for code in dict.fromkeys(codes):  # keeps order, drops repeats
                if fold(code) in have:
                    continue
                have.add(fold(code))
                _name, country, currency = KNOWN_COMPANIES.get(code, ("", None, None))
                rows.append(
                    {
                        "legalentityid": code,
                        "name": company_name(code),
                        "addresscountryregionid": country,
                        "currencycode": currency,
                    }
                )
            if rows:
                conn.execute(table.insert(), rows)
    return legal_entities(url)


def legal_entities(url: str) -> list[LegalEntity]:
    """The legal entities of an F&O store, by code."""
    table = fo.legalentities
    with connected(url) as engine:
        require_tables(engine, url, Side.FO, [table.name])
        with engine.connect() as conn:
            query = select(table.c.legalentityid, table.c.name).order_by(table.c.legalentityid)
            return [LegalEntity(id=row[0], name=row[1]) for row in conn.execute(query)]


def row_counts(url: str, side: Side | str) -> dict[str, int]:
    """Rows per reference table of the side, in dependency order."""
    side = Side(side)
    tables = metadata_for(side).sorted_tables
    counts: dict[str, int] = {}
    with connected(url) as engine:
        require_tables(engine, url, side, [t.name for t in tables])
        with engine.connect() as conn:
            for table in tables:
                counts[table.name] = conn.scalar(select(func.count()).select_from(table)) or 0
    return counts
