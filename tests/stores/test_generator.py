"""The demo data generator: deterministic, referentially consistent, streaming, re-runnable."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table, insert, select, text

from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store, row_counts
from dualwrite.stores.generator import seed_dataverse, seed_fo

Progress = dict[str, list[tuple[int, int]]]


def _store(url: str, side: Side) -> str:
    prepare_data_store(url, side)
    return url


def _rows(url: str, table: Table, skip: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Every row in key order, without what the database assigns (recid, timestamps)."""
    generated = {"recid", "modifieddatetime", "createdon", "modifiedon", *skip}
    cols = [c for c in table.columns if c.name not in generated]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(*cols).order_by(*cols[:2]))]
    finally:
        engine.dispose()


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _recorder(seen: Progress) -> Callable[[str, int, int], None]:
    return lambda table, done, total: seen.setdefault(table, []).append((done, total))


def test_same_seed_gives_the_same_rows(backend: str, new_database: Callable[[str], str]) -> None:
    first, second = (_store(new_database(backend), Side.FO) for _ in range(2))
    for url in (first, second):
        seed_fo(url, customers=300, vendors=50, products=60, contacts=40, batch_size=64)
    for table in fo.metadata.sorted_tables:
        assert _rows(first, table) == _rows(second, table)
    assert len(_rows(first, fo.customersv3)) == 300
    other = _store(new_database(backend), Side.FO)
    seed_fo(other, customers=300, seed=7)
    assert _rows(other, fo.customersv3) != _rows(first, fo.customersv3)


def test_same_seed_gives_the_same_dataverse_rows_and_guids(
    backend: str, new_database: Callable[[str], str]
) -> None:
    first, second = (_store(new_database(backend), Side.DATAVERSE) for _ in range(2))
    for url in (first, second):
        seed_dataverse(url, accounts=120, contacts=30, vendors=20, products=25, batch_size=50)
    for table in dv.metadata.sorted_tables:
        assert _rows(first, table) == _rows(second, table)
    guids = [r[0] for r in _rows(first, dv.account)]
    assert len(guids) == 120
    assert all(str(uuid.UUID(g)) == g for g in guids)  # canonical lowercase GUIDs


def test_fo_rows_are_referentially_consistent_and_progress_reaches_the_totals(
    database_url: str,
) -> None:
    url = _store(database_url, Side.FO)
    seen: Progress = {}
    written = seed_fo(
        url,
        customers=2000,
        vendors=100,
        products=50,
        contacts=70,
        batch_size=500,
        progress=_recorder(seen),
    )
    assert written == {
        "customersv3": 2000,
        "vendorsv2": 100,
        "releasedproductsv2": 50,
        "contactpersons": 70,
    }
    # One report per batch, counting up to the total.
    assert seen["customersv3"] == [(500, 2000), (1000, 2000), (1500, 2000), (2000, 2000)]
    assert seen["vendorsv2"] == [(100, 100)]
    assert set(seen) == set(written)
    # Every reference resolves in the row's own company (the foreign keys hold them too; these
    # joins say it independently of the backend).
    orphans = {
        "customer group": """SELECT c.customeraccount FROM customersv3 c LEFT JOIN customergroups g
            ON g.dataareaid = c.dataareaid AND g.customergroupid = c.customergroupid
            WHERE g.recid IS NULL""",
        "customer terms": """SELECT c.customeraccount FROM customersv3 c LEFT JOIN paymentterms t
            ON t.dataareaid = c.dataareaid AND t.name = c.paymentterms WHERE t.recid IS NULL""",
        "currency": """SELECT c.customeraccount FROM customersv3 c LEFT JOIN currencies x
            ON x.currencycode = c.salescurrencycode WHERE x.recid IS NULL""",
        "vendor group": """SELECT v.vendoraccountnumber FROM vendorsv2 v LEFT JOIN vendorgroups g
            ON g.dataareaid = v.dataareaid AND g.vendorgroupid = v.vendorgroupid
            WHERE g.recid IS NULL""",
        "contact's customer": """SELECT p.contactpersonid FROM contactpersons p
            LEFT JOIN customersv3 c
            ON c.dataareaid = p.dataareaid AND c.customeraccount = p.customeraccount
            WHERE c.recid IS NULL""",
    }
    for what, sql in orphans.items():
        assert _query(url, sql) == [], what
    per_company = _query(
        url, "SELECT dataareaid, COUNT(*) FROM customersv3 GROUP BY dataareaid ORDER BY dataareaid"
    )
    assert per_company == [("DEMF", 667), ("GBSI", 666), ("USMF", 667)]
    currencies = _query(url, "SELECT DISTINCT dataareaid, salescurrencycode FROM customersv3")
    assert sorted(currencies) == [("DEMF", "EUR"), ("GBSI", "GBP"), ("USMF", "USD")]
    first = _query(url, "SELECT customeraccount FROM customersv3 ORDER BY recid LIMIT 1")
    assert first == [("US-000001",)]


def test_dataverse_rows_reference_their_company_group_currency_and_terms(
    database_url: str,
) -> None:
    url = _store(database_url, Side.DATAVERSE)
    written = seed_dataverse(url, accounts=90, contacts=40, vendors=12, products=9)
    assert written == {"account": 90, "contact": 40, "msdyn_vendor": 12, "product": 9}
    counts = row_counts(url, Side.DATAVERSE)
    assert counts["cdm_company"] == 3
    assert counts["msdyn_customergroup"] == 18
    assert counts["msdyn_paymentterm"] == 15
    joined = {
        "account": """SELECT a.accountid FROM account a
            JOIN cdm_company co ON co.cdm_companyid = a.msdyn_company
            JOIN msdyn_customergroup g ON g.msdyn_customergroupid = a.msdyn_customergroupid
                AND g.msdyn_company = a.msdyn_company
            JOIN msdyn_paymentterm t ON t.msdyn_paymenttermid = a.msdyn_paymentterm
                AND t.msdyn_company = a.msdyn_company
            JOIN transactioncurrency c ON c.transactioncurrencyid = a.transactioncurrencyid""",
        "contact": """SELECT k.contactid FROM contact k
            JOIN account a ON a.accountid = k.parentcustomerid
                AND a.msdyn_company = k.msdyn_company""",
        "msdyn_vendor": """SELECT v.msdyn_vendorid FROM msdyn_vendor v
            JOIN msdyn_vendorgroup g ON g.msdyn_vendorgroupid = v.msdyn_vendorgroupid
                AND g.msdyn_company = v.msdyn_company""",
        "product": """SELECT p.productid FROM product p
            JOIN cdm_company co ON co.cdm_companyid = p.msdyn_company""",
    }
    for table, sql in joined.items():
        assert len(_query(url, sql)) == written[table], table


def test_seeding_again_continues_the_numbers(database_url: str) -> None:
    url = _store(database_url, Side.FO)
    seed_fo(url, customers=30, products=10, contacts=6)
    seed_fo(url, customers=30, products=10, contacts=6)  # same seed: same values, new keys
    counts = row_counts(url, Side.FO)
    assert counts["customersv3"] == 60
    assert counts["releasedproductsv2"] == 20
    assert counts["contactpersons"] == 12
    assert counts["legalentities"] == 3
    assert counts["currencies"] == 6
    assert counts["customergroups"] == 18
    usmf = [
        r[0]
        for r in _query(url, "SELECT customeraccount FROM customersv3 WHERE dataareaid = 'USMF'")
    ]
    assert sorted(usmf) == [f"US-{n:06d}" for n in range(1, 21)]


def test_numbering_skips_foreign_keys_and_gaps(database_url: str) -> None:
    url = _store(database_url, Side.FO)
    seed_fo(url, legal_entities=["USMF"], customers=3)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # A hand-made key that shares the prefix, and a deleted customer in the middle.
            conn.execute(
                insert(fo.customersv3),
                {
                    "dataareaid": "USMF",
                    "customeraccount": "US-ZZZZZZ",
                    "customergroupid": "10",
                    "salescurrencycode": "USD",
                },
            )
            conn.execute(text("DELETE FROM customersv3 WHERE customeraccount = 'US-000002'"))
    finally:
        engine.dispose()
    seed_fo(url, legal_entities=["USMF"], customers=2)
    accounts = sorted(r[0] for r in _query(url, "SELECT customeraccount FROM customersv3"))
    assert accounts == ["US-000001", "US-000003", "US-000004", "US-000005", "US-ZZZZZZ"]


def test_dataverse_reseeding_uses_the_reference_rows_that_are_there(database_url: str) -> None:
    url = _store(database_url, Side.DATAVERSE)
    # A company made elsewhere (e.g. by the sync engine) has a random GUID, not ours.
    theirs = str(uuid.uuid4())
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(dv.cdm_company),
                {"cdm_companyid": theirs, "cdm_companycode": "USMF", "cdm_name": "From F&O"},
            )
    finally:
        engine.dispose()
    seed_dataverse(url, legal_entities=["USMF"], accounts=10)
    seed_dataverse(url, legal_entities=["USMF"], accounts=5)
    companies = _query(url, "SELECT DISTINCT msdyn_company FROM account")
    assert companies == [(theirs,)]
    assert row_counts(url, Side.DATAVERSE)["account"] == 15
    numbers = sorted(r[0] for r in _query(url, "SELECT accountnumber FROM account"))
    assert numbers == [f"CRM-{n:06d}" for n in range(1, 16)]


def test_a_store_that_was_never_prepared_is_named(database_url: str) -> None:
    seeds: list[Callable[[], object]] = [
        lambda: seed_fo(database_url, customers=1),
        lambda: seed_dataverse(database_url),
    ]
    for seed in seeds:
        with pytest.raises(DualWriteError) as err:
            seed()
        assert err.value.code == "DW1000"
        assert "prepare the data store first" in err.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"customers": -1}, "customers"),
        ({"batch_size": 0}, "batch_size"),
        ({"legal_entities": []}, "legal entities"),
        ({"legal_entities": ["CONTOSO"]}, "legal entities"),
    ],
)
def test_bad_requests_are_refused_before_writing(
    tmp_path: Any, kwargs: dict[str, Any], field: str
) -> None:
    url = _store(f"sqlite:///{tmp_path / 'fo.db'}", Side.FO)
    with pytest.raises(DualWriteError) as err:
        seed_fo(url, **kwargs)
    assert err.value.code == "DW1000"
    assert err.value.message.startswith(field)
    assert sum(row_counts(url, Side.FO).values()) == 0


def test_reference_rows_differing_only_in_case_do_not_break_seeding(database_url: str) -> None:
    # MariaDB's collation takes `net30` for `Net30`; PostgreSQL and SQLite keep both.
    url = _store(database_url, Side.FO)
    seed_fo(url, legal_entities=["USMF"])
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM customergroups"))
            conn.execute(text("DELETE FROM vendorgroups"))
            conn.execute(text("DELETE FROM paymentterms WHERE name = 'Net30'"))
            conn.execute(
                insert(fo.paymentterms), {"dataareaid": "USMF", "name": "net30", "numberofdays": 30}
            )
    finally:
        engine.dispose()
    assert seed_fo(url, legal_entities=["USMF"], customers=50) == {"customersv3": 50}
    orphans = """SELECT c.customeraccount FROM customersv3 c LEFT JOIN paymentterms t
        ON t.dataareaid = c.dataareaid AND t.name = c.paymentterms WHERE t.recid IS NULL"""
    assert _query(url, orphans) == []
