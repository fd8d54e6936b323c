"""The Dataverse reference schema: GUID keys, alternate keys, lookups, state and audit columns."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
)

from dualwrite.stores.types import Moment

Guid = String(36)  # portable across SQLite, PostgreSQL and MariaDB; lowercase canonical form
Money = Numeric(32, 6)  # Dataverse money: same precision as the F&O side

metadata = MetaData()


def _standard(table: str) -> list[Column[object]]:
    """Columns every Dataverse table has: primary key, state, status, created/modified on."""
    return [
        Column(f"{table}id", Guid, primary_key=True),
        Column("statecode", Integer, nullable=False, server_default="0"),
        Column("statuscode", Integer, nullable=False, server_default="1"),
        Column(
            "createdon",
            Moment,
            nullable=False,
            server_default=func.current_timestamp(),
        ),
        Column(
            "modifiedon",
            Moment,
            nullable=False,
            server_default=func.current_timestamp(),
        ),
    ]


def _company(nullable: bool = False) -> Column[str]:
    return Column("msdyn_company", Guid, ForeignKey("cdm_company.cdm_companyid"), nullable=nullable)


cdm_company = Table(
    "cdm_company",
    metadata,
    *_standard("cdm_company"),
    Column("cdm_companycode", String(4), nullable=False),
    Column("cdm_name", String(100), nullable=False),
    UniqueConstraint("cdm_companycode", name="uq_cdm_company_key"),
)

transactioncurrency = Table(
    "transactioncurrency",
    metadata,
    *_standard("transactioncurrency"),
    Column("isocurrencycode", String(3), nullable=False),
    Column("currencyname", String(100), nullable=False),
    Column("currencysymbol", String(10)),
    Column("currencyprecision", Integer, nullable=False, server_default="2"),
    UniqueConstraint("isocurrencycode", name="uq_transactioncurrency_key"),
)

msdyn_paymentterm = Table(
    "msdyn_paymentterm",
    metadata,
    *_standard("msdyn_paymentterm"),
    Column("msdyn_name", String(10), nullable=False),
    Column("msdyn_description", String(60)),
    Column("msdyn_numberofdays", Integer, nullable=False, server_default="0"),
    _company(),
    UniqueConstraint("msdyn_name", "msdyn_company", name="uq_msdyn_paymentterm_key"),
)

msdyn_customergroup = Table(
    "msdyn_customergroup",
    metadata,
    *_standard("msdyn_customergroup"),
    Column("msdyn_groupid", String(10), nullable=False),
    Column("msdyn_description", String(60)),
    Column("msdyn_paymentterm", Guid, ForeignKey("msdyn_paymentterm.msdyn_paymenttermid")),
    Column("msdyn_istaxexempt", Boolean, nullable=False, server_default="0"),
    _company(),
    UniqueConstraint("msdyn_groupid", "msdyn_company", name="uq_msdyn_customergroup_key"),
)

account = Table(
    "account",
    metadata,
    *_standard("account"),
    Column("accountnumber", String(20), nullable=False),
    Column("name", String(160), nullable=False),
    Column("msdyn_customergroupid", Guid, ForeignKey("msdyn_customergroup.msdyn_customergroupid")),
    Column("transactioncurrencyid", Guid, ForeignKey("transactioncurrency.transactioncurrencyid")),
    Column("msdyn_paymentterm", Guid, ForeignKey("msdyn_paymentterm.msdyn_paymenttermid")),
    Column("creditlimit", Money),
    Column("msdyn_creditlimitisunlimited", Boolean, nullable=False, server_default="0"),
    Column("creditonhold", Boolean, nullable=False, server_default="0"),
    Column("address1_line1", String(250)),
    Column("address1_city", String(80)),
    Column("address1_postalcode", String(20)),
    Column("address1_country", String(80)),
    Column("emailaddress1", String(100)),
    Column("telephone1", String(50)),
    _company(),
    UniqueConstraint("accountnumber", "msdyn_company", name="uq_account_key"),
)

contact = Table(
    "contact",
    metadata,
    *_standard("contact"),
    Column("msdyn_contactpersonid", String(20)),
    Column("msdyn_customeraccount", String(20)),
    Column("firstname", String(50)),
    Column("lastname", String(50), nullable=False),
    Column("jobtitle", String(100)),
    Column("emailaddress1", String(100)),
    Column("telephone1", String(50)),
    Column("parentcustomerid", Guid, ForeignKey("account.accountid")),
    Column("msdyn_customergroupid", Guid, ForeignKey("msdyn_customergroup.msdyn_customergroupid")),
    Column("transactioncurrencyid", Guid, ForeignKey("transactioncurrency.transactioncurrencyid")),
    Column("msdyn_iscustomer", Boolean, nullable=False, server_default="0"),
    _company(nullable=True),
    UniqueConstraint("msdyn_contactpersonid", "msdyn_company", name="uq_contact_person_key"),
    UniqueConstraint("msdyn_customeraccount", "msdyn_company", name="uq_contact_customer_key"),
)

msdyn_vendorgroup = Table(
    "msdyn_vendorgroup",
    metadata,
    *_standard("msdyn_vendorgroup"),
    Column("msdyn_vendorgroup", String(10), nullable=False),
    Column("msdyn_description", String(60)),
    Column("msdyn_paymentterm", Guid, ForeignKey("msdyn_paymentterm.msdyn_paymenttermid")),
    _company(),
    UniqueConstraint("msdyn_vendorgroup", "msdyn_company", name="uq_msdyn_vendorgroup_key"),
)

msdyn_vendor = Table(
    "msdyn_vendor",
    metadata,
    *_standard("msdyn_vendor"),
    Column("msdyn_vendoraccountnumber", String(20), nullable=False),
    Column("msdyn_vendorname", String(100), nullable=False),
    Column("msdyn_vendorgroupid", Guid, ForeignKey("msdyn_vendorgroup.msdyn_vendorgroupid")),
    Column("transactioncurrencyid", Guid, ForeignKey("transactioncurrency.transactioncurrencyid")),
    Column("msdyn_paymentterm", Guid, ForeignKey("msdyn_paymentterm.msdyn_paymenttermid")),
    Column("msdyn_vendorhold", Boolean, nullable=False, server_default="0"),
    Column("msdyn_addresscity", String(80)),
    Column("msdyn_addresscountryregionid", String(10)),
    Column("msdyn_primaryemailaddress", String(100)),
    Column("msdyn_primaryphonenumber", String(50)),
    _company(),
    UniqueConstraint("msdyn_vendoraccountnumber", "msdyn_company", name="uq_msdyn_vendor_key"),
)

product = Table(
    "product",
    metadata,
    *_standard("product"),
    Column("productnumber", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", String(2000)),
    Column("msdyn_productsubtype", String(20)),
    Column("price", Money),
    Column("defaultuomid", String(10)),
    Column("msdyn_isstocked", Boolean, nullable=False, server_default="1"),
    _company(),
    UniqueConstraint("productnumber", "msdyn_company", name="uq_product_key"),
)
