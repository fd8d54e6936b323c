"""The two reference schemas: names, keys, lookups and constraints the databases enforce."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    insert,
)
from sqlalchemy.exc import IntegrityError

from dualwrite.databases import make_engine
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, ensure_legal_entities, prepare_data_store

FO_TABLES = {
    "legalentities",
    "currencies",
    "customergroups",
    "customersv3",
    "vendorgroups",
    "vendorsv2",
    "paymentterms",
    "releasedproductsv2",
    "contactpersons",
}
DV_TABLES = {
    "cdm_company",
    "transactioncurrency",
    "msdyn_customergroup",
    "account",
    "contact",
    "msdyn_vendorgroup",
    "msdyn_vendor",
    "msdyn_paymentterm",
    "product",
}


def _unique_keys(table: Table) -> set[tuple[str, ...]]:
    return {
        tuple(c.name for c in con.columns)
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
    }


def _lookups(table: Table) -> dict[str, str]:
    return {fk.parent.name: fk.target_fullname for fk in table.foreign_keys}


def test_table_and_column_names_are_lowercase_and_unquoted() -> None:
    assert set(fo.metadata.tables) == FO_TABLES
    assert set(dv.metadata.tables) == DV_TABLES
    for metadata in (fo.metadata, dv.metadata):
        for table in metadata.sorted_tables:
            assert table.name == table.name.lower()
            assert all(c.name == c.name.lower() and c.name.isidentifier() for c in table.columns)


@pytest.mark.parametrize("table", fo.metadata.sorted_tables, ids=lambda t: t.name)
def test_fo_tables_have_a_recid_and_a_natural_key(table: Table) -> None:
    (recid,) = table.primary_key.columns
    assert recid.name == "recid"
    assert isinstance(recid.type, BigInteger)
    assert recid.autoincrement is True
    assert isinstance(table.c.modifieddatetime.type, DateTime)
    (natural,) = _unique_keys(table)
    striped = table.name not in ("legalentities", "currencies")
    assert ("dataareaid" in natural) is striped
    assert ("dataareaid" in table.c) is striped


def test_fo_natural_keys_and_references() -> None:
    assert _unique_keys(fo.legalentities) == {("legalentityid",)}
    assert _unique_keys(fo.currencies) == {("currencycode",)}
    assert _unique_keys(fo.customersv3) == {("dataareaid", "customeraccount")}
    assert _unique_keys(fo.vendorsv2) == {("dataareaid", "vendoraccountnumber")}
    assert _unique_keys(fo.releasedproductsv2) == {("dataareaid", "itemnumber")}
    customer_fks = {
        tuple(c.name for c in fk.columns): fk.referred_table.name
        for fk in fo.customersv3.foreign_key_constraints
    }
    assert customer_fks == {
        ("dataareaid",): "legalentities",
        ("dataareaid", "customergroupid"): "customergroups",
        ("salescurrencycode",): "currencies",
        ("dataareaid", "paymentterms"): "paymentterms",
    }


@pytest.mark.parametrize("table", dv.metadata.sorted_tables, ids=lambda t: t.name)
def test_dataverse_tables_have_guid_keys_state_and_audit_columns(table: Table) -> None:
    (pk,) = table.primary_key.columns
    assert pk.name == f"{table.name}id"
    assert isinstance(pk.type, String)
    assert pk.type.length == 36
    assert isinstance(table.c.statecode.type, Integer)
    assert isinstance(table.c.statuscode.type, Integer)
    for stamp in ("createdon", "modifiedon"):
        kind = table.c[stamp].type
        assert isinstance(kind, DateTime)
        assert kind.timezone
    assert _unique_keys(table), "every table has an alternate key"
    for column in table.columns:
        if column.foreign_keys:
            assert isinstance(column.type, String)
            assert column.type.length == 36  # lookups are GUIDs


def test_dataverse_alternate_keys_and_lookups_are_the_dual_write_ones() -> None:
    assert _unique_keys(dv.cdm_company) == {("cdm_companycode",)}
    assert _unique_keys(dv.transactioncurrency) == {("isocurrencycode",)}
    assert _unique_keys(dv.msdyn_customergroup) == {("msdyn_groupid", "msdyn_company")}
    assert _unique_keys(dv.account) == {("accountnumber", "msdyn_company")}
    assert _unique_keys(dv.msdyn_vendor) == {("msdyn_vendoraccountnumber", "msdyn_company")}
    assert _unique_keys(dv.msdyn_vendorgroup) == {("msdyn_vendorgroup", "msdyn_company")}
    assert _unique_keys(dv.msdyn_paymentterm) == {("msdyn_name", "msdyn_company")}
    assert _lookups(dv.account) == {
        "msdyn_company": "cdm_company.cdm_companyid",
        "msdyn_customergroupid": "msdyn_customergroup.msdyn_customergroupid",
        "transactioncurrencyid": "transactioncurrency.transactioncurrencyid",
        "msdyn_paymentterm": "msdyn_paymentterm.msdyn_paymenttermid",
    }
    assert _lookups(dv.contact)["parentcustomerid"] == "account.accountid"
    assert isinstance(dv.account.c.creditonhold.type, Boolean)
    for money in (dv.account.c.creditlimit, fo.customersv3.c.creditlimit):
        assert isinstance(money.type, Numeric)
        assert (money.type.precision, money.type.scale) == (32, 6)  # same family on both sides


def test_the_databases_enforce_keys_and_references(database_url: str) -> None:
    prepare_data_store(database_url, Side.FO)
    ensure_legal_entities(database_url, ["USMF", "DEMF"])
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(fo.currencies), [{"currencycode": "USD", "name": "US Dollar"}])
            conn.execute(
                insert(fo.customergroups),
                [{"dataareaid": "USMF", "customergroupid": "10", "description": "Wholesale"}],
            )
        customer = {
            "dataareaid": "USMF",
            "customeraccount": "US-1",
            "customergroupid": "10",
            "salescurrencycode": "USD",
        }
        with engine.begin() as conn:
            first = conn.execute(insert(fo.customersv3), customer).inserted_primary_key
            assert first is not None and first[0] > 0  # recid is generated
        for broken in (
            {},  # the same natural key again
            {"customeraccount": "US-2", "dataareaid": "DEMF"},  # group 10 exists only in USMF
            {"customeraccount": "US-3", "salescurrencycode": "EUR"},  # no such currency
            {"customeraccount": "US-4", "paymentterms": "Net30"},  # no such payment term
        ):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(insert(fo.customersv3), customer | broken)
    finally:
        engine.dispose()


def test_dataverse_lookups_are_enforced(database_url: str) -> None:
    prepare_data_store(database_url, Side.DATAVERSE)
    engine = make_engine(database_url)
    company = "00000000-0000-4000-8000-000000000001"
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(dv.cdm_company),
                {"cdm_companyid": company, "cdm_companycode": "USMF", "cdm_name": "Contoso"},
            )
        account = {
            "accountid": "00000000-0000-4000-8000-000000000002",
            "accountnumber": "CRM-1",
            "name": "Made in CRM",
            "msdyn_company": company,
        }
        with engine.begin() as conn:
            conn.execute(insert(dv.account), account)
        ghost = "00000000-0000-4000-8000-00000000dead"
        for broken in (
            {"accountid": ghost},  # the alternate key again
            {"accountid": ghost, "accountnumber": "CRM-2", "msdyn_company": ghost},
            {"accountid": ghost, "accountnumber": "CRM-3", "transactioncurrencyid": ghost},
        ):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(insert(dv.account), account | broken)
    finally:
        engine.dispose()
