"""Seeding machinery: rows stream through bounded batches; key numbers continue correctly."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Column, Integer, MetaData, String, Table

from dualwrite.databases import make_engine
from dualwrite.stores.seeding import company_share, insert_stream, next_number, share_of

scratch = MetaData()
things = Table(
    "things",
    scratch,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("company", String(4), nullable=False),
    Column("code", String(20), nullable=False),
)


def test_rows_are_pulled_one_batch_ahead_at_most(database_url: str) -> None:
    produced = 0
    ahead: list[int] = []

    def rows() -> Iterator[dict[str, object]]:
        nonlocal produced
        for i in range(1, 1001):
            produced += 1
            yield {"company": "USMF", "code": f"T-{i:06d}"}

    def progress(_table: str, done: int, total: int) -> None:
        ahead.append(produced - done)
        assert total == 1000

    engine = make_engine(database_url)
    try:
        scratch.create_all(engine)
        with engine.begin() as conn:
            assert insert_stream(conn, things, rows(), 1000, 64, progress) == 1000
            # The generator is never more than one batch ahead of what was inserted.
            assert max(ahead) <= 64
            assert len(ahead) == 16  # ceil(1000 / 64) batches
            assert next_number(conn, things, "code", "T-", company="USMF") == 1001
            assert next_number(conn, things, "code", "T-", company="DEMF") == 1
            assert next_number(conn, things, "code", "X-") == 1
    finally:
        engine.dispose()


def test_next_number_reads_past_keys_that_are_not_numbers(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        scratch.create_all(engine)
        with engine.begin() as conn:
            # More non-numeric keys than one page, all sorting above the numeric ones.
            odd = [{"company": "USMF", "code": f"P-Z{i:04d}x"} for i in range(1200)]
            conn.execute(things.insert(), odd)
            conn.execute(things.insert(), [{"company": "USMF", "code": "P-000042"}])
            conn.execute(things.insert(), [{"company": "USMF", "code": "P-9"}])
            # LIKE wildcards in the prefix are matched literally.
            conn.execute(things.insert(), [{"company": "USMF", "code": "P_000777"}])
            assert next_number(conn, things, "code", "P-") == 43
            assert next_number(conn, things, "code", "P_") == 778
    finally:
        engine.dispose()


def test_rows_are_spread_round_robin_over_the_companies() -> None:
    companies = ["USMF", "DEMF", "GBSI"]
    shares = list(company_share(companies, 7))
    assert shares[:4] == [("USMF", 0), ("DEMF", 0), ("GBSI", 0), ("USMF", 1)]
    assert share_of(companies, 7) == {"USMF": 3, "DEMF": 2, "GBSI": 2}
    assert share_of(companies, 0) == {"USMF": 0, "DEMF": 0, "GBSI": 0}
