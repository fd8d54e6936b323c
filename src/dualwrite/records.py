"""Record pages of both sides: list, show, create, edit and delete rows of the reference tables
(customers, vendors, groups, currencies in F&O; accounts, vendors, groups, currencies in
Dataverse). Writes go through SQL like any other client, so the capture triggers sync them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from dualwrite.bounds import parse_id, within
from dualwrite.control.models import FoEnvironment, PlatformEnvironment, User
from dualwrite.errors import ERR
from dualwrite.lifecycle.environments import require_writable
from dualwrite.platform.environments import is_admin
from dualwrite.stores import dataverse, fo
from dualwrite.stores.datastore import Side, connected

PAGE = 50


@dataclass(frozen=True)
class RecordKind:
    slug: str
    label: str
    side: Side
    table: Table
    id_column: str  # what a record's URL names: recid (F&O) or the GUID primary key (Dataverse)
    title: str  # the column that names a record
    columns: tuple[str, ...]  # shown in the list
    editable: tuple[str, ...]  # in the edit form
    creatable: tuple[str, ...] = ()  # in the create form (empty: no create from the UI)


KINDS: dict[Side, dict[str, RecordKind]] = {
    Side.FO: {
        k.slug: k
        for k in (
            RecordKind(
                "customers",
                "Customers",
                Side.FO,
                fo.customersv3,
                "recid",
                "organizationname",
                (
                    "dataareaid",
                    "customeraccount",
                    "organizationname",
                    "customergroupid",
                    "salescurrencycode",
                    "addresscity",
                ),
                (
                    "organizationname",
                    "customergroupid",
                    "salescurrencycode",
                    "addresscity",
                    "primarycontactemail",
                    "primarycontactphone",
                ),
                (
                    "dataareaid",
                    "customeraccount",
                    "organizationname",
                    "customergroupid",
                    "salescurrencycode",
                    "addresscity",
                    "primarycontactemail",
                ),
            ),
            RecordKind(
                "vendors",
                "Vendors",
                Side.FO,
                fo.vendorsv2,
                "recid",
                "vendororganizationname",
                (
                    "dataareaid",
                    "vendoraccountnumber",
                    "vendororganizationname",
                    "vendorgroupid",
                    "currencycode",
                    "addresscity",
                ),
                (
                    "vendororganizationname",
                    "vendorgroupid",
                    "currencycode",
                    "addresscity",
                    "primaryemailaddress",
                    "primaryphonenumber",
                ),
                (
                    "dataareaid",
                    "vendoraccountnumber",
                    "vendororganizationname",
                    "vendorgroupid",
                    "currencycode",
                    "addresscity",
                ),
            ),
            RecordKind(
                "customer-groups",
                "Customer groups",
                Side.FO,
                fo.customergroups,
                "recid",
                "customergroupid",
                ("dataareaid", "customergroupid", "description", "paymenttermid"),
                ("description",),
                ("dataareaid", "customergroupid", "description"),
            ),
            RecordKind(
                "vendor-groups",
                "Vendor groups",
                Side.FO,
                fo.vendorgroups,
                "recid",
                "vendorgroupid",
                ("dataareaid", "vendorgroupid", "description", "paymenttermid"),
                ("description",),
                ("dataareaid", "vendorgroupid", "description"),
            ),
            RecordKind(
                "currencies",
                "Currencies",
                Side.FO,
                fo.currencies,
                "recid",
                "currencycode",
                ("currencycode", "name", "symbol"),
                ("name", "symbol"),
                ("currencycode", "name", "symbol"),
            ),
        )
    },
    Side.DATAVERSE: {
        k.slug: k
        for k in (
            RecordKind(
                "accounts",
                "Accounts",
                Side.DATAVERSE,
                dataverse.metadata.tables["account"],
                "accountid",
                "name",
                ("accountnumber", "name", "address1_city", "emailaddress1", "modifiedon"),
                ("name", "address1_city", "emailaddress1", "telephone1"),
            ),
            RecordKind(
                "vendors",
                "Vendors",
                Side.DATAVERSE,
                dataverse.metadata.tables["msdyn_vendor"],
                "msdyn_vendorid",
                "msdyn_vendorname",
                (
                    "msdyn_vendoraccountnumber",
                    "msdyn_vendorname",
                    "msdyn_addresscity",
                    "modifiedon",
                ),
                ("msdyn_vendorname", "msdyn_addresscity", "msdyn_primaryemailaddress"),
            ),
            RecordKind(
                "customer-groups",
                "Customer groups",
                Side.DATAVERSE,
                dataverse.metadata.tables["msdyn_customergroup"],
                "msdyn_customergroupid",
                "msdyn_groupid",
                ("msdyn_groupid", "msdyn_description", "modifiedon"),
                ("msdyn_description",),
            ),
            RecordKind(
                "vendor-groups",
                "Vendor groups",
                Side.DATAVERSE,
                dataverse.metadata.tables["msdyn_vendorgroup"],
                "msdyn_vendorgroupid",
                "msdyn_vendorgroup",
                ("msdyn_vendorgroup", "msdyn_description", "modifiedon"),
                ("msdyn_description",),
            ),
            RecordKind(
                "currencies",
                "Currencies",
                Side.DATAVERSE,
                dataverse.metadata.tables["transactioncurrency"],
                "transactioncurrencyid",
                "isocurrencycode",
                ("isocurrencycode", "currencyname", "currencysymbol"),
                ("currencyname", "currencysymbol"),
                ("isocurrencycode", "currencyname", "currencysymbol"),
            ),
        )
    },
}


def record_kind(side: Side | str, slug: str) -> RecordKind:
    kinds = KINDS[Side(side)]
    if slug not in kinds:
        raise ERR.NOT_FOUND.error(kind="record type", name=slug, noun="records")
    return kinds[slug]


@dataclass(frozen=True)
class Page:
    kind: RecordKind
    rows: list[dict[str, Any]]
    total: int
    offset: int
    search: str


@dataclass(frozen=True)
class Where:
    """A data store the actor may read, and whether it may be written now."""

    url: str
    side: Side
    writable_env: FoEnvironment | None  # F&O: refuses writes during downtime


def fo_store(env: FoEnvironment) -> Where:
    return Where(env.data_store_url, Side.FO, env)


def dataverse_store(actor: User, target: PlatformEnvironment) -> Where:
    """A Dataverse's records are for its System Administrators."""
    if not target.has_dataverse or not target.dataverse_url:
        raise ERR.NO_DATAVERSE.error(name=target.name)
    if not is_admin(target, actor):
        raise ERR.NOT_DATAVERSE_ADMIN.error(platform=target.name)
    return Where(target.dataverse_url, Side.DATAVERSE, None)


def list_records(where: Where, slug: str, search: str = "", offset: int = 0) -> Page:
    """One page of records; `search` matches the listed text columns by substring, its `%`, `_`
    and escape characters taken literally."""
    kind = record_kind(where.side, slug)
    within("offset", offset)
    table = kind.table
    query = select(table)
    count = select(func.count()).select_from(table)
    if term := search.strip().lower():
        match = or_(
            *(
                func.lower(table.c[c]).contains(term, autoescape=True)
                for c in kind.columns
                if c in table.c and _is_text(table, c)
            )
        )
        query, count = query.where(match), count.where(match)
    with connected(where.url) as engine, engine.connect() as conn:
        rows = conn.execute(query.order_by(*_order(kind)).offset(offset).limit(PAGE)).mappings()
        found = [dict(r) for r in rows]
        total = conn.scalar(count) or 0
    return Page(kind, found, total, offset, search)


def _is_text(table: Table, column: str) -> bool:
    return getattr(table.c[column].type, "length", None) is not None


def _order(kind: RecordKind) -> list[Any]:
    return [kind.table.c[c] for c in kind.columns[:2]]


def get_record(where: Where, slug: str, record_id: str) -> dict[str, Any]:
    kind = record_kind(where.side, slug)
    with connected(where.url) as engine, engine.connect() as conn:
        row = conn.execute(select(kind.table).where(_id(kind, record_id))).mappings().first()
    if row is None:
        raise ERR.NOT_FOUND.error(kind=kind.label.lower()[:-1], name=record_id, noun="records")
    return dict(row)


def _id(kind: RecordKind, record_id: str) -> Any:
    column = kind.table.c[kind.id_column]
    if kind.side is Side.FO:
        return column == parse_id("record", record_id, "a RecId")
    return column == record_id.lower()


def _values(kind: RecordKind, fields: Sequence[str], data: dict[str, str]) -> dict[str, Any]:
    """Form text → column values, checked against the schema (required, length)."""
    values: dict[str, Any] = {}
    for name in fields:
        column = kind.table.c[name]
        text = (data.get(name) or "").strip()
        if not text:
            if not column.nullable and column.server_default is None:
                raise ERR.INVALID_INPUT.error(field=name, problem="is required")
            values[name] = None
            continue
        length = getattr(column.type, "length", None)
        if length is not None and len(text) > length:
            raise ERR.INVALID_INPUT.error(
                field=name, problem=f"{len(text)} characters; at most {length} fit"
            )
        values[name] = (
            text.upper() if name in ("dataareaid", "currencycode", "salescurrencycode") else text
        )
    return values


def _write(where: Where, statement: Any) -> None:
    if where.writable_env is not None:
        require_writable(where.writable_env)
    try:
        with connected(where.url) as engine, engine.begin() as conn:
            conn.execute(statement)
    except IntegrityError as exc:
        raise ERR.INVALID_INPUT.error(
            field="record",
            problem="the key is taken, or a value does not match an existing company, group or "
            f"currency ({str(exc.orig).splitlines()[0]})",
        ) from None


def create_record(where: Where, slug: str, data: dict[str, str]) -> str:
    kind = record_kind(where.side, slug)
    if not kind.creatable:
        raise ERR.INVALID_INPUT.error(
            field="record type", problem=f"{kind.label} are created by sync"
        )
    values = _values(kind, kind.creatable, data)
    if kind.side is Side.DATAVERSE:
        values[kind.id_column] = str(uuid.uuid4())
    _write(where, insert(kind.table).values(values))
    if kind.side is Side.DATAVERSE:
        return str(values[kind.id_column])
    key = {c: values[c] for c in kind.creatable[:2]}
    with connected(where.url) as engine, engine.connect() as conn:
        found = conn.scalar(
            select(kind.table.c.recid).where(*(kind.table.c[c] == v for c, v in key.items()))
        )
    return str(found)


def update_record(where: Where, slug: str, record_id: str, data: dict[str, str]) -> None:
    kind = record_kind(where.side, slug)
    get_record(where, slug, record_id)
    values = _values(kind, kind.editable, data)
    stamp = "modifieddatetime" if kind.side is Side.FO else "modifiedon"
    values[stamp] = func.current_timestamp()
    _write(where, update(kind.table).where(_id(kind, record_id)).values(values))


def delete_record(where: Where, slug: str, record_id: str) -> None:
    kind = record_kind(where.side, slug)
    get_record(where, slug, record_id)
    _write(where, delete(kind.table).where(_id(kind, record_id)))
