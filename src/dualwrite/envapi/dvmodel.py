"""The Dataverse Web API's names for the tables of `stores/dataverse.py`, in one place: entity
set names as Microsoft spells them, lookups (`_x_value`) and their navigation properties."""

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
from dualwrite.stores import dataverse

NAMESPACE = "Microsoft.Dynamics.CRM"

# Table (entity logical name) → entity set name, as the Web API's service document lists them.
ENTITY_SETS = {
    "account": "accounts",
    "contact": "contacts",
    "cdm_company": "cdm_companies",
    "transactioncurrency": "transactioncurrencies",
    "msdyn_paymentterm": "msdyn_paymentterms",
    "msdyn_customergroup": "msdyn_customergroups",
    "msdyn_vendorgroup": "msdyn_vendorgroups",
    "msdyn_vendor": "msdyn_vendors",
    "product": "products",
}

# Lookups whose single-valued navigation property is not named like the lookup column: a
# customer lookup has one navigation per target (only accounts in our schema).
NAVIGATION_NAMES = {("contact", "parentcustomerid"): "parentcustomerid_account"}

# The primary name attribute: what a lookup's formatted value and EntityDefinitions show.
PRIMARY_NAMES = {
    "account": "name",
    "contact": "lastname",
    "cdm_company": "cdm_name",
    "transactioncurrency": "currencyname",
    "msdyn_paymentterm": "msdyn_name",
    "msdyn_customergroup": "msdyn_groupid",
    "msdyn_vendorgroup": "msdyn_vendorgroup",
    "msdyn_vendor": "msdyn_vendorname",
    "product": "name",
}

READ_ONLY = frozenset({"createdon", "modifiedon"})


def lookup_name(column: str) -> str:
    """The property a lookup column is read as: `_parentcustomerid_value`."""
    return f"_{column}_value"


def _entity_set(table: Table) -> EntitySet:
    lookups = {pairs[0][0]: pairs for pairs in foreign_keys(table) if len(pairs) == 1}
    pk = f"{table.name}id"
    props: dict[str, Property] = {}
    for column in table.columns:
        if column.name in lookups:
            name = lookup_name(column.name)
            prop = make_property(column, name, Kind.GUID)
        else:
            kind = kind_of(column, guid_columns=(pk,))
            prop = make_property(column, column.name, kind, read_only=column.name in READ_ONLY)
        props[prop.name] = prop
    by_column = {p.column.name: p for p in props.values()}
    navigations = {}
    for local, pairs in lookups.items():
        target = referred_table(table, [local])
        name = str(NAVIGATION_NAMES.get((table.name, local), local))
        navigations[name] = Navigation(
            name, ENTITY_SETS[target.name], pairs, lookup=by_column[local]
        )
    alternate = tuple(tuple(by_column[c] for c in key) for key in unique_keys(table))
    return EntitySet(
        name=ENTITY_SETS[table.name],
        type_name=table.name,
        namespace=NAMESPACE,
        table=table,
        properties=props,
        key=(by_column[pk],),
        alternate_keys=alternate,
        navigations=navigations,
        primary_name=by_column[PRIMARY_NAMES[table.name]],
    )


@functools.cache
def dataverse_model() -> ServiceModel:
    sets = [_entity_set(t) for t in dataverse.metadata.sorted_tables]
    return ServiceModel(
        NAMESPACE, "System", {s.name: s for s in sorted(sets, key=lambda s: s.name)}
    )


def navigation_for_lookup(entity: EntitySet, column: str) -> Navigation:
    return next(n for n in entity.navigations.values() if n.pairs[0][0] == column)
