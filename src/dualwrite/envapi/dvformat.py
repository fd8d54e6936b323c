"""Dataverse annotations on rows when `Prefer: odata.include-annotations` asks for them:
formatted values of option sets, yes/no, money and numbers, dates and lookups (the related
record's primary name), and a lookup's logical name and navigation property."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from dualwrite.envapi.dvmodel import navigation_for_lookup
from dualwrite.odata.model import EntitySet, Kind, ServiceModel
from dualwrite.odata.query import Preferences

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"

OPTION_SETS = {
    "statecode": {0: "Active", 1: "Inactive"},
    "statuscode": {1: "Active", 2: "Inactive"},
}


def _moment(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {half}"


def _formatted(name: str, kind: Kind, value: Any) -> str | None:
    if value is None:
        return None
    if name in OPTION_SETS:
        return OPTION_SETS[name].get(value, str(value))
    if kind is Kind.BOOL:
        return "Yes" if value else "No"
    if kind is Kind.DECIMAL:
        return f"{Decimal(value):,.2f}"
    if kind in (Kind.INT, Kind.BIGINT):
        return f"{value:,}"
    if kind is Kind.DATETIME:
        return _moment(value)
    return None


def annotate(
    conn: Connection,
    model: ServiceModel,
    entity: EntitySet,
    rows: list[dict[str, Any]],
    prefer: Preferences,
) -> None:
    formatted, logical = prefer.wants(FORMATTED), prefer.wants(LOGICAL_NAME)
    if not (formatted or logical) or not rows:
        return
    lookups = {
        p.name: navigation_for_lookup(entity, p.column.name)
        for p in entity.properties.values()
        if p.name.startswith("_") and p.name.endswith("_value")
    }
    names: dict[str, dict[Any, Any]] = {}
    if formatted:
        for prop_name, nav in lookups.items():
            wanted = {r.get(prop_name) for r in rows} - {None}
            target = model.sets[nav.target]
            if not wanted or target.primary_name is None:
                continue
            pk = target.key[0].column
            query = select(pk, target.primary_name.column).where(pk.in_(sorted(wanted)))
            names[prop_name] = dict(conn.execute(query).all())
    symbols = _currency_symbols(conn, model, entity, rows) if formatted else {}
    for row in rows:
        symbol = symbols.get(row.get(CURRENCY_LOOKUP), "")
        for prop_name in list(row):
            prop = entity.properties.get(prop_name)
            if prop is None:
                continue
            value = row[prop_name]
            if prop_name in lookups:
                if value is None:
                    continue
                nav = lookups[prop_name]
                if formatted and prop_name in names:
                    row[f"{prop_name}@{FORMATTED}"] = names[prop_name].get(value)
                if logical:
                    row[f"{prop_name}@{LOGICAL_NAME}"] = model.sets[nav.target].type_name
                    row[f"{prop_name}@{NAVIGATION}"] = nav.name
                continue
            if formatted:
                text = _formatted(prop_name, prop.kind, value)
                if text is not None:
                    money = prop.kind is Kind.DECIMAL and not text.startswith("-")
                    row[f"{prop_name}@{FORMATTED}"] = f"{symbol}{text}" if money else text


CURRENCY_LOOKUP = "_transactioncurrencyid_value"


def _currency_symbols(
    conn: Connection, model: ServiceModel, entity: EntitySet, rows: list[dict[str, Any]]
) -> dict[Any, str]:
    """Money shows with its record's currency symbol ($5,000.00), as Dataverse formats it."""
    wanted = {r.get(CURRENCY_LOOKUP) for r in rows} - {None}
    if not wanted or not any(p.kind is Kind.DECIMAL for p in entity.properties.values()):
        return {}
    currencies = model.sets["transactioncurrencies"].table
    query = select(currencies.c.transactioncurrencyid, currencies.c.currencysymbol).where(
        currencies.c.transactioncurrencyid.in_(sorted(wanted))
    )
    return {key: symbol or "" for key, symbol in conn.execute(query).all()}


def applied_annotations(prefer: Preferences) -> str | None:
    if prefer.annotations is None:
        return None
    return f'odata.include-annotations="{prefer.annotations}"'
