"""A small F&O and Dataverse schema shaped like the reference ones, for validation tests."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
)

Guid = String(36)


def _fo_table(name: str, *columns: Column[object] | UniqueConstraint, md: MetaData) -> Table:
    return Table(
        name,
        md,
        Column("recid", Integer, primary_key=True, autoincrement=True),
        Column("modifieddatetime", DateTime, nullable=False, server_default=func.now()),
        *columns,
    )


def _dv_table(name: str, *columns: Column[object] | UniqueConstraint, md: MetaData) -> Table:
    return Table(
        name,
        md,
        Column(f"{name}id", Guid, primary_key=True),
        Column("statecode", Integer, nullable=False, server_default="0"),
        Column("createdon", DateTime, nullable=False, server_default=func.now()),
        Column("modifiedon", DateTime, nullable=False, server_default=func.now()),
        *columns,
    )


def build_fo() -> MetaData:
    md = MetaData()
    _fo_table(
        "legalentities",
        Column("legalentityid", String(4), nullable=False),
        Column("name", String(100), nullable=False),
        Column("defaultgroup", String(10)),
        UniqueConstraint("legalentityid"),
        md=md,
    )
    _fo_table(
        "paymentterms",
        Column("dataareaid", String(4), nullable=False),
        Column("name", String(10), nullable=False),
        Column("numberofdays", Integer, nullable=False, server_default="0"),
        UniqueConstraint("dataareaid", "name"),
        md=md,
    )
    _fo_table(
        "customergroups",
        Column("dataareaid", String(4), nullable=False),
        Column("customergroupid", String(10), nullable=False),
        Column("description", String(60)),
        Column("paymenttermid", String(10)),
        Column("istaxexempt", Boolean, nullable=False, server_default="0"),
        Column("discount", Numeric(10, 2)),
        Column("days", Integer),
        UniqueConstraint("dataareaid", "customergroupid"),
        UniqueConstraint("dataareaid", "customergroupid", "description"),
        md=md,
    )
    _fo_table(
        "customers",
        Column("dataareaid", String(4), nullable=False),
        Column("customeraccount", String(20), nullable=False),
        Column("organizationname", String(100)),
        Column("customergroupid", String(10), nullable=False),
        Column("email", String(255)),
        Column("onholdstatus", String(10), nullable=False, server_default="No"),
        UniqueConstraint("dataareaid", "customeraccount"),
        md=md,
    )
    return md


def build_dv() -> MetaData:
    md = MetaData()
    company = "cdm_company.cdm_companyid"
    _dv_table(
        "cdm_company",
        Column("cdm_companycode", String(4), nullable=False),
        Column("cdm_name", String(100), nullable=False),
        Column("msdyn_defaultgroup", Guid, ForeignKey("msdyn_customergroup.msdyn_customergroupid")),
        UniqueConstraint("cdm_companycode"),
        md=md,
    )
    _dv_table(
        "msdyn_paymentterm",
        Column("msdyn_name", String(10), nullable=False),
        Column("msdyn_numberofdays", Integer),
        Column("msdyn_company", Guid, ForeignKey(company), nullable=False),
        UniqueConstraint("msdyn_name", "msdyn_company"),
        md=md,
    )
    _dv_table(
        "msdyn_customergroup",
        Column("msdyn_groupid", String(10), nullable=False),
        Column("msdyn_description", String(60)),
        Column("msdyn_paymentterm", Guid, ForeignKey("msdyn_paymentterm.msdyn_paymenttermid")),
        Column("msdyn_istaxexempt", Boolean, nullable=False, server_default="0"),
        Column("msdyn_taxexemptcode", Integer),  # an option set: 1 = exempt, 0 = not
        Column("msdyn_discount", Numeric(10, 2)),
        Column("msdyn_days", Integer),
        Column("msdyn_company", Guid, ForeignKey(company), nullable=False),
        UniqueConstraint("msdyn_groupid", "msdyn_company"),
        UniqueConstraint("msdyn_groupid", "msdyn_description", "msdyn_company"),
        md=md,
    )
    _dv_table(
        "account",
        Column("accountnumber", String(20), nullable=False),
        Column("name", String(160), nullable=False),
        Column(
            "msdyn_customergroupid", Guid, ForeignKey("msdyn_customergroup.msdyn_customergroupid")
        ),
        Column("emailaddress1", String(100)),
        Column("creditonhold", Boolean, nullable=False, server_default="0"),
        Column("msdyn_company", Guid, ForeignKey(company), nullable=False),
        UniqueConstraint("accountnumber", "msdyn_company"),
        md=md,
    )
    return md


@pytest.fixture(scope="session")
def fo_md() -> MetaData:
    return build_fo()


@pytest.fixture(scope="session")
def dv_md() -> MetaData:
    return build_dv()
