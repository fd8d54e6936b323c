"""Shared machinery for seeding data stores: request checks, batched inserts, key numbering."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table, func, select

from dualwrite.errors import ERR
from dualwrite.stores.datastore import check_company_codes

Progress = Callable[[str, int, int], None]
Row = dict[str, Any]
DEFAULT_COMPANIES = ("USMF", "DEMF", "GBSI")
_PAGE = 500  # keys read at a time while looking for the highest generated number


def check_request(companies: Sequence[str], batch_size: int, counts: dict[str, int]) -> list[str]:
    """Validate a seeding request; returns the companies without repeats, in their order."""
    for name, count in counts.items():
        if count < 0:
            raise ERR.INVALID_INPUT.error(field=name, problem=f"{count} is negative")
    if batch_size < 1:
        raise ERR.INVALID_INPUT.error(field="batch_size", problem="must be at least 1")
    unique = list(dict.fromkeys(companies))
    if not unique:
        raise ERR.INVALID_INPUT.error(field="legal entities", problem="name at least one company")
    check_company_codes(unique)
    return unique


def batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_stream(
    conn: Connection,
    table: Table,
    rows: Iterable[Row],
    total: int,
    batch_size: int,
    progress: Progress | None,
) -> int:
    """Insert lazily generated rows batch by batch; memory is bounded by `batch_size`."""
    done = 0
    for batch in batches(rows, batch_size):
        conn.execute(table.insert(), batch)
        done += len(batch)
        if progress:
            progress(table.name, done, total)
    return done


def company_share(companies: Sequence[str], count: int) -> Iterator[tuple[str, int]]:
    """Spread `count` rows round-robin over the companies: (company, ordinal within company)."""
    for i in range(count):
        yield companies[i % len(companies)], i // len(companies)


def share_of(companies: Sequence[str], count: int) -> dict[str, int]:
    """How many of `count` rows `company_share` gives each company."""
    k = len(companies)
    return {co: (count - i + k - 1) // k for i, co in enumerate(companies)}


def next_number(conn: Connection, table: Table, column: str, prefix: str, **where: Any) -> int:
    """One past the highest `prefix` + digits key, so re-seeding adds rows instead of failing.

    Longest first, then highest: among keys of digits that is the numeric order. Keys that only
    share the prefix (`PAINT-01` for `P`) are skipped; reading page by page keeps memory flat."""
    col = table.c[column]
    query = (
        select(col)
        .where(
            col.startswith(prefix, autoescape=True), *(table.c[k] == v for k, v in where.items())
        )
        .order_by(func.length(col).desc(), col.desc())
        .limit(_PAGE)
    )
    offset = 0
    while True:
        keys = conn.scalars(query.offset(offset)).all()
        for key in keys:
            digits = key[len(prefix) :]
            if digits.isascii() and digits.isdigit():
                return int(digits) + 1
        if len(keys) < _PAGE:
            return 1
        offset += _PAGE


def folder(conn: Connection) -> Callable[[Any], Any]:
    """How the database compares key values: MariaDB ignores case (its default collation), so
    `net30` there is the `Net30` we would add, and adding it would break the unique key."""
    if conn.dialect.name in ("mysql", "mariadb"):
        return lambda value: value.casefold() if isinstance(value, str) else value
    return lambda value: value


def insert_absent(conn: Connection, table: Table, key: Sequence[str], rows: list[Row]) -> None:
    """Insert the reference rows whose natural key is not there yet (small tables only)."""
    fold = folder(conn)
    have = {tuple(map(fold, r)) for r in conn.execute(select(*(table.c[k] for k in key)))}
    fresh = [r for r in rows if tuple(fold(r[k]) for k in key) not in have]
    if fresh:
        conn.execute(table.insert(), fresh)
