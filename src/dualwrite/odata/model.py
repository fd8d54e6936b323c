"""The entity model an OData service exposes over SQLAlchemy tables: entity sets, their
properties (public names over columns), keys, alternate keys and single-valued navigation.

The platforms differ only in names (Dataverse shows logical names and `_x_value` for lookups,
finance and operations PascalCase public names) and a few value conventions; both build their
model from the same table metadata here, so CSDL, queries and writes read one description."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from dualwrite.odata.errors import unknown_property


class Kind(StrEnum):
    """How a property's values are read from JSON and literals, and written back."""

    STRING = "string"
    GUID = "guid"
    INT = "int"
    BIGINT = "bigint"
    DECIMAL = "decimal"
    BOOL = "bool"
    ENUM_NOYES = "noyes"  # finance and operations' NoYes enum over a boolean column
    DATETIME = "datetime"
    DATE = "date"


EDM = {
    Kind.STRING: "Edm.String",
    Kind.GUID: "Edm.Guid",
    Kind.INT: "Edm.Int32",
    Kind.BIGINT: "Edm.Int64",
    Kind.DECIMAL: "Edm.Decimal",
    Kind.BOOL: "Edm.Boolean",
    Kind.DATETIME: "Edm.DateTimeOffset",
    Kind.DATE: "Edm.Date",
}


@dataclass(frozen=True, eq=False)
class Property:
    name: str  # the public name clients use
    column: Column[object]
    kind: Kind
    nullable: bool
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    read_only: bool = False  # set by the service (audit columns, generated keys)
    upper: bool = False  # stored upper case, shown lower case (F&O dataAreaId)
    enum_type: str | None = None  # qualified enum type name for ENUM_NOYES

    @property
    def edm(self) -> str:
        return self.enum_type if self.kind is Kind.ENUM_NOYES and self.enum_type else EDM[self.kind]


@dataclass(frozen=True, eq=False)
class Navigation:
    """A single-valued navigation property: local columns → the target set's columns."""

    name: str
    target: str  # entity set name
    pairs: tuple[tuple[str, str], ...]  # (local column, target column)
    lookup: Property | None = None  # Dataverse: the `_x_value` property this lookup sets


@dataclass(eq=False)
class EntitySet:
    name: str  # accounts, CustomersV3
    type_name: str  # account, CustomerV3
    namespace: str
    table: Table
    properties: dict[str, Property]
    key: tuple[Property, ...]
    alternate_keys: tuple[tuple[Property, ...], ...] = ()
    navigations: dict[str, Navigation] = field(default_factory=dict)
    company: Property | None = None  # F&O: dataAreaId of company-striped entities
    primary_name: Property | None = None  # Dataverse: what a lookup's formatted value shows
    by_column: dict[str, Property] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_column = {p.column.name: p for p in self.properties.values()}

    @property
    def qualified_type(self) -> str:
        return f"{self.namespace}.{self.type_name}"

    def prop(self, name: str) -> Property:
        found = self.properties.get(name)
        if found is None:
            raise unknown_property(name, self.qualified_type)
        return found

    @property
    def row_key(self) -> tuple[Column[object], ...]:
        """The table's primary key: the order that makes paging deterministic."""
        return tuple(self.table.primary_key.columns)


@dataclass(eq=False)
class ServiceModel:
    namespace: str
    container: str
    sets: dict[str, EntitySet]
    enum_types: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)

    def by_table(self, table: str) -> EntitySet:
        return next(s for s in self.sets.values() if s.table.name == table)


def kind_of(column: Column[object], guid_columns: Iterable[str] = ()) -> Kind:
    typ = column.type
    if column.name in guid_columns:
        return Kind.GUID
    if isinstance(typ, Boolean):
        return Kind.BOOL
    if isinstance(typ, DateTime):
        return Kind.DATETIME
    if isinstance(typ, Date):
        return Kind.DATE
    if isinstance(typ, BigInteger):
        return Kind.BIGINT
    if isinstance(typ, Integer):
        return Kind.INT
    if isinstance(typ, Numeric):
        return Kind.DECIMAL
    if isinstance(typ, String):
        return Kind.STRING
    raise TypeError(f"no OData kind for column {column} of type {typ!r}")


def make_property(
    column: Column[object],
    name: str,
    kind: Kind,
    *,
    read_only: bool = False,
    upper: bool = False,
    enum_type: str | None = None,
) -> Property:
    typ = column.type
    length = typ.length if isinstance(typ, String) and kind is Kind.STRING else None
    precision = typ.precision if isinstance(typ, Numeric) and kind is Kind.DECIMAL else None
    scale = typ.scale if isinstance(typ, Numeric) and kind is Kind.DECIMAL else None
    return Property(
        name=str(name),  # not SQLAlchemy's quoted_name: orjson wants plain str keys
        column=column,
        kind=kind,
        nullable=bool(column.nullable) and not column.primary_key,
        max_length=length,
        precision=precision,
        scale=scale,
        read_only=read_only,
        upper=upper,
        enum_type=enum_type,
    )


def unique_keys(table: Table) -> list[tuple[str, ...]]:
    """Column names of every unique constraint: the alternate keys."""
    return [
        tuple(c.name for c in con.columns)
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
    ]


def foreign_keys(table: Table) -> list[tuple[tuple[str, str], ...]]:
    """(local, remote) column pairs of every foreign key, and the remote table via `.table`."""
    out = []
    for con in sorted(
        (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)),
        key=lambda c: tuple(c.column_keys),
    ):
        out.append(tuple((e.parent.name, e.column.name) for e in con.elements))
    return out


def referred_table(table: Table, local_columns: Sequence[str]) -> Table:
    for con in table.constraints:
        if isinstance(con, ForeignKeyConstraint) and tuple(con.column_keys) == tuple(local_columns):
            referred: Table = con.referred_table
            return referred
    raise KeyError(local_columns)


NameOf = Callable[[Column[object]], str]
