"""The finance and operations reference schema: data entities, company-striped by dataareaid."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
)

from dualwrite.stores.types import AutoId, Moment

RecId = AutoId  # F&O's RecId: a 64-bit surrogate key, auto-incremented on every backend
Money = Numeric(32, 6)  # F&O's AmountMST/Price precision, same as Dataverse money columns

metadata = MetaData()


def _recid() -> Column[int]:
    return Column("recid", RecId, primary_key=True, autoincrement=True)


def _modified() -> Column[object]:
    return Column(
        "modifieddatetime",
        Moment,
        nullable=False,
        server_default=func.current_timestamp(),
    )


legalentities = Table(
    "legalentities",
    metadata,
    _recid(),
    Column("legalentityid", String(4), nullable=False),
    Column("name", String(100), nullable=False),
    Column("addresscountryregionid", String(10)),
    # No foreign key: a company is deployed before any currency exists in its store.
    Column("currencycode", String(3)),
    _modified(),
    UniqueConstraint("legalentityid", name="uq_legalentities_key"),
)

currencies = Table(
    "currencies",
    metadata,
    _recid(),
    Column("currencycode", String(3), nullable=False),
    Column("name", String(60), nullable=False),
    Column("symbol", String(5)),
    Column("roundingprecision", Money),
    _modified(),
    UniqueConstraint("currencycode", name="uq_currencies_key"),
)

paymentterms = Table(
    "paymentterms",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("name", String(10), nullable=False),
    Column("description", String(60)),
    Column("numberofdays", Integer, nullable=False, server_default="0"),
    _modified(),
    UniqueConstraint("dataareaid", "name", name="uq_paymentterms_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
)

customergroups = Table(
    "customergroups",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("customergroupid", String(10), nullable=False),
    Column("description", String(60)),
    Column("paymenttermid", String(10)),
    Column("istaxexempt", Boolean, nullable=False, server_default="0"),
    _modified(),
    UniqueConstraint("dataareaid", "customergroupid", name="uq_customergroups_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
    ForeignKeyConstraint(
        ["dataareaid", "paymenttermid"], ["paymentterms.dataareaid", "paymentterms.name"]
    ),
)

customersv3 = Table(
    "customersv3",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("customeraccount", String(20), nullable=False),
    Column("partytype", String(12), nullable=False, server_default="Organization"),
    Column("organizationname", String(100)),
    Column("personfirstname", String(25)),
    Column("personlastname", String(25)),
    Column("customergroupid", String(10), nullable=False),
    Column("salescurrencycode", String(3), nullable=False),
    Column("paymentterms", String(10)),
    Column("creditlimit", Money, nullable=False, server_default="0"),
    Column("creditlimitisunlimited", Boolean, nullable=False, server_default="0"),
    Column("onholdstatus", String(10), nullable=False, server_default="No"),
    Column("addressstreet", String(250)),
    Column("addresscity", String(60)),
    Column("addresszipcode", String(10)),
    Column("addresscountryregionid", String(10)),
    Column("primarycontactemail", String(255)),
    Column("primarycontactphone", String(255)),
    _modified(),
    UniqueConstraint("dataareaid", "customeraccount", name="uq_customersv3_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
    ForeignKeyConstraint(
        ["dataareaid", "customergroupid"],
        ["customergroups.dataareaid", "customergroups.customergroupid"],
    ),
    ForeignKeyConstraint(["salescurrencycode"], ["currencies.currencycode"]),
    ForeignKeyConstraint(
        ["dataareaid", "paymentterms"], ["paymentterms.dataareaid", "paymentterms.name"]
    ),
)

vendorgroups = Table(
    "vendorgroups",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("vendorgroupid", String(10), nullable=False),
    Column("description", String(60)),
    Column("paymenttermid", String(10)),
    _modified(),
    UniqueConstraint("dataareaid", "vendorgroupid", name="uq_vendorgroups_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
    ForeignKeyConstraint(
        ["dataareaid", "paymenttermid"], ["paymentterms.dataareaid", "paymentterms.name"]
    ),
)

vendorsv2 = Table(
    "vendorsv2",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("vendoraccountnumber", String(20), nullable=False),
    Column("vendororganizationname", String(100), nullable=False),
    Column("vendorgroupid", String(10), nullable=False),
    Column("currencycode", String(3), nullable=False),
    Column("paymenttermsname", String(10)),
    Column("onholdstatus", String(10), nullable=False, server_default="No"),
    Column("addresscity", String(60)),
    Column("addresscountryregionid", String(10)),
    Column("primaryemailaddress", String(255)),
    Column("primaryphonenumber", String(255)),
    _modified(),
    UniqueConstraint("dataareaid", "vendoraccountnumber", name="uq_vendorsv2_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
    ForeignKeyConstraint(
        ["dataareaid", "vendorgroupid"],
        ["vendorgroups.dataareaid", "vendorgroups.vendorgroupid"],
    ),
    ForeignKeyConstraint(["currencycode"], ["currencies.currencycode"]),
    ForeignKeyConstraint(
        ["dataareaid", "paymenttermsname"], ["paymentterms.dataareaid", "paymentterms.name"]
    ),
)

releasedproductsv2 = Table(
    "releasedproductsv2",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("itemnumber", String(20), nullable=False),
    Column("productname", String(60), nullable=False),
    Column("productdescription", String(1000)),
    Column("productsubtype", String(20), nullable=False, server_default="Product"),
    Column("salesprice", Money, nullable=False, server_default="0"),
    Column("salesunitsymbol", String(10), nullable=False, server_default="ea"),
    Column("isstocked", Boolean, nullable=False, server_default="1"),
    _modified(),
    UniqueConstraint("dataareaid", "itemnumber", name="uq_releasedproductsv2_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
)

contactpersons = Table(
    "contactpersons",
    metadata,
    _recid(),
    Column("dataareaid", String(4), nullable=False),
    Column("contactpersonid", String(20), nullable=False),
    Column("firstname", String(25), nullable=False),
    Column("lastname", String(25), nullable=False),
    # No foreign key: F&O keeps a contact when the customer it worked for is deleted.
    Column("customeraccount", String(20)),
    Column("jobtitle", String(60)),
    Column("email", String(255)),
    Column("phone", String(255)),
    _modified(),
    UniqueConstraint("dataareaid", "contactpersonid", name="uq_contactpersons_key"),
    ForeignKeyConstraint(["dataareaid"], ["legalentities.legalentityid"]),
)

# Tables whose rows belong to one legal entity (company striping on dataareaid).
COMPANY_STRIPED = frozenset(t.name for t in metadata.sorted_tables if "dataareaid" in t.c)
