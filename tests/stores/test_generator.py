"""The demo data generator: deterministic, referentially consistent, streaming, re-runnable."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from dualwrite.databases import make_engine
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store, row_counts
from dualwrite.stores.generator import seed_dataverse, seed_fo


def _fo_store(url: str) -> str:
    prepare_data_store(url, Side.FO)
    return url


def _rows(url: str, table: object) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            cols = [c for c in table.columns if c.name not in ("recid", "modifieddatetime")]  # type: ignore[attr-defined]
            return [tuple(r) for r in conn.execute(select(*cols).order_by(*cols[:2]))]
    finally:
        engine.dispose()


def test_same_seed_gives_the_same_rows(backend: str, new_database: Callable[[str], str]) -> None:
    first, second = _fo_store(new_database(backend)), _fo_store(new_database(backend))
    for url in (first, second):
        seed_fo(url, customers=300, vendors=50, products=60, contacts=40, batch_size=64)
    for table in (fo.customersv3, fo.vendorsv2, fo.releasedproductsv2, fo.contactpersons):
        assert _rows(first, table) == _rows(second, table)
    assert len(_rows(first, fo.customersv3)) == 300


def test_rows_are_referentially_consistent_and_progress_reaches_the_totals(
    database_url: str,
) -> None:
    url = _fo_store(database_url)
    seen: dict[str, tuple[int, int]] = {}
    written = seed_fo(
        url,
        customers=2000,
        vendors=100,
        batch_size=500,
        progress=lambda table, done, total: seen.__setitem__(table, (done, total)),
    )
    assert written == {"customersv3": 2000, "vendorsv2": 100}
    assert seen["customersv3"] == (2000, 2000)
    assert seen["vendorsv2"] == (100, 100)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            groups = set(
                conn.execute(
                    select(fo.customergroups.c.dataareaid, fo.customergroups.c.customergroupid)
                )
            )
            customers = conn.execute(
                select(fo.customersv3.c.dataareaid, fo.customersv3.c.customergroupid)
            )
            assert all(tuple(c) in groups for c in customers)
            companies = {r[0] for r in conn.execute(select(fo.customersv3.c.dataareaid))}
            assert companies == {"USMF", "DEMF", "GBSI"}
    finally:
        engine.dispose()


def test_seeding_again_adds_rows_instead_of_failing(database_url: str) -> None:
    url = _fo_store(database_url)
    seed_fo(url, customers=30, products=10)
    seed_fo(url, customers=30, products=10)
    counts = row_counts(url, Side.FO)
    assert counts["customersv3"] == 60
    assert counts["releasedproductsv2"] == 20
    assert counts["legalentities"] == 3
    assert counts["currencies"] == 6


def test_dataverse_accounts_reference_their_company_group_and_currency(database_url: str) -> None:
    prepare_data_store(database_url, Side.DATAVERSE)
    assert seed_dataverse(database_url, accounts=90) == {"account": 90}
    seed_dataverse(database_url, accounts=10)
    counts = row_counts(database_url, Side.DATAVERSE)
    assert counts["account"] == 100
    assert counts["cdm_company"] == 3
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            query = (
                select(dv.account.c.accountnumber)
                .join(dv.cdm_company, dv.cdm_company.c.cdm_companyid == dv.account.c.msdyn_company)
                .join(
                    dv.msdyn_customergroup,
                    dv.msdyn_customergroup.c.msdyn_customergroupid
                    == dv.account.c.msdyn_customergroupid,
                )
            )
            assert len(conn.execute(query).all()) == 100
    finally:
        engine.dispose()
