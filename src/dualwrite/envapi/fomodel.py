"""Finance and operations' public names for the tables of `stores/fo.py`, in one place: each
data entity's public entity name and collection name, and its fields' public names."""

from __future__ import annotations

import functools

from sqlalchemy import Table

from dualwrite.odata.model import (
    EntitySet,
    Kind,
    Navigation,
    Property,
    ServiceModel,
    foreign_keys,
    kind_of,
    make_property,
    referred_table,
    unique_keys,
)
from dualwrite.stores import fo

NAMESPACE = "Microsoft.Dynamics.DataEntities"
NOYES = f"{NAMESPACE}.NoYes"
COMPANY_FIELD = "dataAreaId"

# Table → (public entity name, public collection name, {column: public field name}).
ENTITIES: dict[str, tuple[str, str, dict[str, str]]] = {
    "legalentities": (
        "LegalEntity",
        "LegalEntities",
        {
            "legalentityid": "LegalEntityId",
            "name": "Name",
            "addresscountryregionid": "AddressCountryRegionId",
            "currencycode": "AccountingCurrency",
        },
    ),
    "currencies": (
        "Currency",
        "Currencies",
        {
            "currencycode": "CurrencyCode",
            "name": "Name",
            "symbol": "Symbol",
            "roundingprecision": "RoundingPrecision",
        },
    ),
    "paymentterms": (
        "PaymentTerm",
        "PaymentTerms",
        {"name": "Name", "description": "Description", "numberofdays": "NumberOfDays"},
    ),
    "customergroups": (
        "CustomerGroup",
        "CustomerGroups",
        {
            "customergroupid": "CustomerGroupId",
            "description": "Description",
            "paymenttermid": "PaymentTermId",
            "istaxexempt": "IsTaxExempt",
        },
    ),
    "customersv3": (
        "CustomerV3",
        "CustomersV3",
        {
            "customeraccount": "CustomerAccount",
            "partytype": "PartyType",
            "organizationname": "OrganizationName",
            "personfirstname": "PersonFirstName",
            "personlastname": "PersonLastName",
            "customergroupid": "CustomerGroupId",
            "salescurrencycode": "SalesCurrencyCode",
            "paymentterms": "PaymentTerms",
            "creditlimit": "CreditLimit",
            "creditlimitisunlimited": "CreditLimitIsUnlimited",
            "onholdstatus": "OnHoldStatus",
            "addressstreet": "AddressStreet",
            "addresscity": "AddressCity",
            "addresszipcode": "AddressZipCode",
            "addresscountryregionid": "AddressCountryRegionId",
            "primarycontactemail": "PrimaryContactEmail",
            "primarycontactphone": "PrimaryContactPhone",
        },
    ),
    "vendorgroups": (
        "VendorGroup",
        "VendorGroups",
        {
            "vendorgroupid": "VendorGroupId",
            "description": "Description",
            "paymenttermid": "DefaultPaymentTermName",
        },
    ),
    "vendorsv2": (
        "VendorV2",
        "VendorsV2",
        {
            "vendoraccountnumber": "VendorAccountNumber",
            "vendororganizationname": "VendorOrganizationName",
            "vendorgroupid": "VendorGroupId",
            "currencycode": "CurrencyCode",
            "paymenttermsname": "DefaultPaymentTermsName",
            "onholdstatus": "OnHoldStatus",
            "addresscity": "AddressCity",
            "addresscountryregionid": "AddressCountryRegionId",
            "primaryemailaddress": "PrimaryEmailAddress",
            "primaryphonenumber": "PrimaryPhoneNumber",
        },
    ),
    "releasedproductsv2": (
        "ReleasedProductV2",
        "ReleasedProductsV2",
        {
            "itemnumber": "ItemNumber",
            "productname": "ProductName",
            "productdescription": "ProductDescription",
            "productsubtype": "ProductSubType",
            "salesprice": "SalesPrice",
            "salesunitsymbol": "SalesUnitSymbol",
            "isstocked": "IsStockedProduct",
        },
    ),
    "contactpersons": (
        "ContactPersonV2",
        "ContactPersonsV2",
        {
            "contactpersonid": "ContactPersonId",
            "firstname": "FirstName",
            "lastname": "LastName",
            "customeraccount": "AssociatedCustomerAccount",
            "jobtitle": "JobTitle",
            "email": "PrimaryEmailAddress",
            "phone": "PrimaryPhoneNumber",
        },
    ),
}

# Internal columns that F&O's public entities do not show (RecId, the audit time).
HIDDEN = frozenset({"recid", "modifieddatetime"})


def _entity_set(table: Table) -> EntitySet:
    type_name, set_name, fields = ENTITIES[table.name]
    props: dict[str, Property] = {}
    for column in table.columns:
        if column.name in HIDDEN:
            continue
        if column.name == "dataareaid":
            prop = make_property(column, COMPANY_FIELD, Kind.STRING, upper=True)
        else:
            kind = kind_of(column)
            if kind is Kind.BOOL:
                prop = make_property(column, fields[column.name], Kind.ENUM_NOYES, enum_type=NOYES)
            else:
                prop = make_property(column, fields[column.name], kind)
        props[prop.name] = prop
    by_column = {p.column.name: p for p in props.values()}
    keys = unique_keys(table)
    navigations = {}
    for pairs in foreign_keys(table):
        locals_ = [p[0] for p in pairs]
        if locals_ == ["dataareaid"]:
            continue  # the company itself, not a navigation F&O shows
        target = referred_table(table, locals_)
        nav_name = ENTITIES[target.name][0]
        navigations[nav_name] = Navigation(nav_name, ENTITIES[target.name][1], pairs)
    return EntitySet(
        name=set_name,
        type_name=type_name,
        namespace=NAMESPACE,
        table=table,
        properties=props,
        key=tuple(by_column[c] for c in keys[0]),
        navigations=navigations,
        company=by_column.get("dataareaid"),
    )


@functools.cache
def fo_model() -> ServiceModel:
    sets = [_entity_set(t) for t in fo.metadata.sorted_tables]
    return ServiceModel(
        NAMESPACE,
        "Resources",
        {s.name: s for s in sorted(sets, key=lambda s: s.name)},
        enum_types={NOYES: (("No", 0), ("Yes", 1))},
    )


# The X++ data entities behind the public collections, as F&O names them in write errors.
INTERNAL_ENTITIES = {
    "legalentities": "OMLegalEntity",
    "currencies": "CurrencyEntity",
    "paymentterms": "PaymTermEntity",
    "customergroups": "CustCustomerGroupEntity",
    "customersv3": "CustCustomerV3Entity",
    "vendorgroups": "VendVendorGroupEntity",
    "vendorsv2": "VendVendorV2Entity",
    "releasedproductsv2": "EcoResReleasedProductV2Entity",
    "contactpersons": "ContactPersonV2Entity",
}


def internal_entity(table: str) -> str:
    return INTERNAL_ENTITIES.get(table, table)
