"""Checking table maps against the F&O and Dataverse schemas, and ordering them by dependency.

String lengths are not checked here: a longer F&O value that does not fit Dataverse is a
per-record error at run time (the record goes to the error log), as in the original product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from dualwrite.maps.loader import Problems
from dualwrite.maps.model import FieldMap, Solution, TableMap, writes_dv, writes_fo

READ_ONLY_FO = {"recid", "modifieddatetime"}
READ_ONLY_DV = {"createdon", "modifiedon"}


def family(column: Column[object]) -> str:
    """The type family that decides which columns may map to which."""
    kind = column.type
    if column.foreign_keys or (
        column.primary_key and isinstance(kind, String) and kind.length == 36
    ):
        return "guid"
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Integer):
        return "number"
    if isinstance(kind, Numeric):
        return "number"
    if isinstance(kind, DateTime):
        return "datetime"
    return "string"


def _unique_sets(table: Table) -> list[set[str]]:
    sets = [{c.name for c in table.primary_key.columns}]
    sets += [
        {c.name for c in con.columns}
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
    ]
    return sets


def _check_field(
    problems: Problems, tmap: TableMap, fo_table: Table, dv_table: Table, fm: FieldMap
) -> None:
    where = (tmap.name, f"field '{fm.fo}'")
    if fm.fo not in fo_table.c:
        problems.add(f"unknown column '{fm.fo}' in F&O table '{fo_table.name}'", *where)
        return
    if fm.dv not in dv_table.c:
        problems.add(f"unknown column '{fm.dv}' in Dataverse table '{dv_table.name}'", *where)
        return
    if writes_dv(fm.direction) and (fm.dv in READ_ONLY_DV or dv_table.c[fm.dv].primary_key):
        problems.add(f"impossible direction: Dataverse '{fm.dv}' cannot be written", *where)
    if writes_fo(fm.direction) and fm.fo in READ_ONLY_FO:
        problems.add(f"impossible direction: F&O '{fm.fo}' cannot be written", *where)
    if fm.values is not None and fm.direction == "both" and not fm.values.invertible():
        problems.add("impossible direction: the value map cannot be inverted for <->", *where)
    fo_family, dv_family = family(fo_table.c[fm.fo]), family(dv_table.c[fm.dv])
    if "guid" in (fo_family, dv_family):
        problems.add("incompatible types: a Dataverse lookup maps only through a lookup", *where)
    elif fo_family != dv_family and fm.values is None:
        problems.add(
            f"incompatible types: {fo_family} '{fm.fo}' ↔ {dv_family} '{fm.dv}' need a value map",
            *where,
        )


def _check_map(
    problems: Problems, tmap: TableMap, fo: MetaData, dv: MetaData, names: set[str]
) -> None:
    fo_table, dv_table = fo.tables.get(tmap.fo), dv.tables.get(tmap.dv)
    if fo_table is None:
        problems.add(f"unknown F&O table '{tmap.fo}'", tmap.name)
    if dv_table is None:
        problems.add(f"unknown Dataverse table '{tmap.dv}'", tmap.name)
    if fo_table is None or dv_table is None:
        return
    for fm in tmap.fields:
        _check_field(problems, tmap, fo_table, dv_table, fm)
    for lk in tmap.all_lookups():
        where = (tmap.name, f"lookup '{lk.dv}'")
        if lk.map not in names:
            problems.add(f"unknown lookup map '{lk.map}'", *where)
        if lk.fo not in fo_table.c:
            problems.add(f"unknown column '{lk.fo}' in F&O table '{fo_table.name}'", *where)
        if lk.dv not in dv_table.c:
            problems.add(f"unknown column '{lk.dv}' in Dataverse table '{dv_table.name}'", *where)
        elif family(dv_table.c[lk.dv]) != "guid":
            problems.add(f"'{lk.dv}' is not a Dataverse lookup (GUID) column", *where)
    for fo_col, dv_col in tmap.key:
        if fo_col not in fo_table.c or dv_col not in dv_table.c:
            problems.add(f"missing key: unknown key column '{fo_col}' or '{dv_col}'", tmap.name)
            return
    if tmap.key and set(tmap.fo_key) not in _unique_sets(fo_table):
        problems.add(
            f"missing key: {', '.join(tmap.fo_key)} is not a unique key of '{fo_table.name}'",
            tmap.name,
        )
    if tmap.key and set(tmap.dv_key) not in _unique_sets(dv_table):
        problems.add(
            f"missing key: {', '.join(tmap.dv_key)} is not an alternate key of '{dv_table.name}'",
            tmap.name,
        )


def dependency_order(maps: Sequence[TableMap]) -> list[TableMap]:
    """Maps after the maps they look up, ties by name; raises DW5003 naming a cycle."""
    by_name = {m.name: m for m in maps}
    order: list[TableMap] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done" or name not in by_name:
            return
        if state.get(name) == "visiting":
            cycle = " → ".join([*path[path.index(name) :], name])
            problems = Problems(by_name[name].source or "maps")
            problems.add(f"dependency cycle: {cycle}", name)
            problems.raise_if_any()
        state[name] = "visiting"
        for dep in sorted(by_name[name].depends_on):
            visit(dep, [*path, name])
        state[name] = "done"
        order.append(by_name[name])

    for name in sorted(by_name):
        visit(name, [])
    return order


def with_dependencies(maps: Sequence[TableMap], names: Iterable[str]) -> list[TableMap]:
    """The named maps and every map they look up, directly or not, in dependency order."""
    by_name = {m.name: m for m in maps}
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in by_name and name not in wanted:
            wanted.add(name)
            todo.extend(by_name[name].depends_on)
    return [m for m in dependency_order(maps) if m.name in wanted]


def validate(solutions: Iterable[Solution], fo: MetaData, dv: MetaData) -> list[TableMap]:
    """Check every map of the solutions together; return them in dependency order."""
    solutions = list(solutions)
    maps = [m for s in solutions for m in s.maps]
    names = {m.name for m in maps}
    for solution in solutions:
        problems = Problems(solution.source or solution.name)
        known = {s.name for s in solutions}
        for required in solution.requires:
            if required not in known:
                problems.add(f"requires solution '{required}', which is not loaded")
        for tmap in solution.maps:
            _check_map(problems, tmap, fo, dv, names)
        problems.raise_if_any()
    return dependency_order(maps)
