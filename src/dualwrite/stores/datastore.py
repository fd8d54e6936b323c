"""Preparing an environment's data store (create or adopt the schema) and reading its basics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, MetaData, func, inspect, select

from dualwrite.databases import display_url, make_engine, parse_url, translate_errors
from dualwrite.errors import ERR
from dualwrite.stores import dataverse, fo


class Side(StrEnum):
    FO = "fo"
    DATAVERSE = "dataverse"

    @property
    def label(self) -> str:
        return "finance and operations" if self is Side.FO else "Dataverse"


def metadata_for(side: Side | str) -> MetaData:
    return fo.metadata if Side(side) is Side.FO else dataverse.metadata


@dataclass(frozen=True)
class DataStoreReport:
    url: str
    side: Side
    created: bool  # False: an existing store with the full schema was adopted as it is


@dataclass(frozen=True)
class LegalEntity:
    id: str
    name: str


KNOWN_COMPANIES = {
    "USMF": ("Contoso Entertainment System USA", "USA", "USD"),
    "DEMF": ("Contoso Entertainment System Germany", "DEU", "EUR"),
    "GBSI": ("Contoso Entertainment System UK", "GBR", "GBP"),
    "USRT": ("Contoso Retail USA", "USA", "USD"),
    "FRRT": ("Contoso Retail France", "FRA", "EUR"),
}


@contextmanager
def connected(url: str) -> Iterator[Engine]:
    """An engine for `url` whose connection failures are DW2002, disposed afterwards."""
    engine = make_engine(parse_url(url))
    try:
        with translate_errors(engine.url):
            yield engine
    finally:
        engine.dispose()


def missing_schema(engine: Engine, metadata: MetaData) -> tuple[list[str], list[str]]:
    """(missing tables, missing `table.column`s of tables that exist)."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    missing_tables = [t.name for t in metadata.sorted_tables if t.name not in present]
    missing_columns: list[str] = []
    for table in metadata.sorted_tables:
        if table.name in present:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing_columns += [
                f"{table.name}.{c.name}" for c in table.columns if c.name not in have
            ]
    return missing_tables, missing_columns


def prepare_data_store(url: str, side: Side) -> DataStoreReport:
    """Create the side's schema in an empty database, adopt a database that already has it, and
    refuse a partial one before creating anything, naming what is missing."""
    metadata = metadata_for(side)
    with connected(url) as engine:
        missing_tables, missing_columns = missing_schema(engine, metadata)
        ours = {t.name for t in metadata.sorted_tables}
        if not missing_tables and not missing_columns:
            return DataStoreReport(url=url, side=side, created=False)
        if len(missing_tables) < len(ours) or missing_columns:
            problems = [f"missing tables {', '.join(missing_tables)}"] if missing_tables else []
            if missing_columns:
                problems.append(f"missing columns {', '.join(missing_columns)}")
            raise ERR.DATA_STORE_INCOMPLETE.error(
                url=display_url(url), side=side.label, problems="; ".join(problems)
            )
        metadata.create_all(engine)
    return DataStoreReport(url=url, side=side, created=True)


def ensure_legal_entities(url: str, codes: Sequence[str]) -> list[LegalEntity]:
    """Add the legal entities (companies) an F&O environment is deployed with, if absent."""
    table = fo.legalentities
    with connected(url) as engine, engine.begin() as conn:
        have = set(conn.scalars(select(table.c.legalentityid)))
        rows = []
        for code in codes:
            if code in have:
                continue
            name, country, currency = KNOWN_COMPANIES.get(code, (f"Company {code}", None, None))
            rows.append(
                {
                    "legalentityid": code,
                    "name": name,
                    "addresscountryregionid": country,
                    "currencycode": currency,
                }
            )
        if rows:
            conn.execute(table.insert(), rows)
    return legal_entities(url)


def legal_entities(url: str) -> list[LegalEntity]:
    table = fo.legalentities
    with connected(url) as engine, engine.connect() as conn:
        query = select(table.c.legalentityid, table.c.name).order_by(table.c.legalentityid)
        return [LegalEntity(id=row[0], name=row[1]) for row in conn.execute(query)]


def row_counts(url: str, side: Side) -> dict[str, int]:
    counts: dict[str, int] = {}
    with connected(url) as engine, engine.connect() as conn:
        for table in metadata_for(side).sorted_tables:
            counts[table.name] = conn.scalar(select(func.count()).select_from(table)) or 0
    return counts
