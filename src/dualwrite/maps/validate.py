"""Checking table maps against the F&O and Dataverse schemas, naming file > map > field.

Text that may be too long is a warning, not a problem (see `fitting`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import MetaData, Table

from dualwrite.maps.columns import (
    READ_ONLY,
    family,
    fits,
    references,
    required,
    unique_sets,
)
from dualwrite.maps.fitting import fit_warnings
from dualwrite.maps.model import (
    Direction,
    FieldMap,
    Filter,
    Lookup,
    Side,
    Solution,
    TableMap,
    ValueMap,
    canonical,
    writes_dv,
    writes_fo,
)
from dualwrite.maps.order import dependency_order, report_cycles, with_dependencies
from dualwrite.maps.problems import Problems

__all__ = ["dependency_order", "fit_warnings", "validate", "with_dependencies"]

_SIDE = {"fo": "F&O", "dataverse": "Dataverse"}
_ARROW = {"fo_to_dv": "->", "dv_to_fo": "<-", "both": "<->"}


class _MapCheck:
    """The checks of one map whose two tables exist."""

    def __init__(
        self,
        problems: Problems,
        tmap: TableMap,
        tables: dict[Side, Table],
        maps: dict[str, TableMap],
        fo_tables: Mapping[str, Table],
    ) -> None:
        self.problems, self.tmap, self.tables, self.maps = problems, tmap, tables, maps
        self.fo_tables = fo_tables  # a lookup's F&O value must fit the other map's key
        self.fo, self.dv = tables["fo"], tables["dataverse"]

    def add(self, problem: str, label: str = "") -> None:
        self.problems.add_in(self.tmap.source, problem, self.tmap.name, label)

    def known(self, side: Side, column: str, label: str) -> bool:
        table = self.tables[side]
        if column in table.c:
            return True
        self.add(f"unknown column '{column}' in {_SIDE[side]} table '{table.name}'", label)
        return False

    def writable(self, side: Side, column: str, direction: Direction, label: str) -> None:
        if not (writes_dv(direction) if side == "dataverse" else writes_fo(direction)):
            return
        why = (
            "the primary key"
            if self.tables[side].c[column].primary_key
            else "set by the platform"
            if column in READ_ONLY[side]
            else ""
        )
        if why:
            self.add(
                f"impossible direction {_ARROW[direction]}: {_SIDE[side]} '{column}' is {why} "
                "and cannot be written",
                label,
            )

    # --- fields ----------------------------------------------------------------------------------

    def field(self, fm: FieldMap) -> None:
        label = f"field '{fm.fo}'"
        # `&`, not `and`: both sides are checked so both unknown columns are named
        if not (self.known("fo", fm.fo, label) & self.known("dataverse", fm.dv, label)):
            return
        self.writable("fo", fm.fo, fm.direction, label)
        self.writable("dataverse", fm.dv, fm.direction, label)
        fo_kind, dv_kind = family(self.fo.c[fm.fo]), family(self.dv.c[fm.dv])
        if "guid" in (fo_kind, dv_kind):
            self.add(
                f"incompatible types: '{fm.dv if dv_kind == 'guid' else fm.fo}' is a lookup "
                "(GUID); map it under 'lookups' through the map of the table it refers to",
                label,
            )
            return
        if fm.values is not None:
            self.value_map(fm, fm.values, fo_kind, dv_kind, label)
        elif fo_kind != dv_kind:
            self.add(
                f"incompatible types: {fo_kind} '{fm.fo}' ↔ {dv_kind} '{fm.dv}' need a value map",
                label,
            )
        if fm.default is not None:
            targets = (
                (fo_kind, "F&O", writes_fo(fm.direction)),
                (dv_kind, "Dataverse", writes_dv(fm.direction)),
            )
            for kind, side, used in targets:
                if used and not fits(kind, fm.default):
                    self.add(
                        f"incompatible types: default {fm.default!r} does not fit {side} "
                        f"{kind} column",
                        label,
                    )

    def value_map(
        self, fm: FieldMap, values: ValueMap, fo_kind: str, dv_kind: str, label: str
    ) -> None:
        fo_values = [fo for fo, _ in values.pairs] + [values.default_fo]
        dv_values = [dv for _, dv in values.pairs] + [values.default_dv]
        sides: list[tuple[Side, str, list[Any]]] = [
            ("fo", fo_kind, fo_values),
            ("dataverse", dv_kind, dv_values),
        ]
        for side, kind, found in sides:
            for value in found:
                if not fits(kind, value):
                    self.add(
                        f"incompatible types: value map {_SIDE[side]} value {value!r} is not "
                        f"a {kind}",
                        label,
                    )
        if fm.direction == "both" and not values.invertible():
            self.add(
                "impossible direction <->: the value map is not invertible "
                f"({_repeated(values)}); use -> or <-",
                label,
            )

    # --- lookups and company ---------------------------------------------------------------------

    def lookup(self, lk: Lookup, label: str) -> None:
        fo_ok, dv_ok = self.known("fo", lk.fo, label), self.known("dataverse", lk.dv, label)
        if fo_ok:
            self.writable("fo", lk.fo, lk.direction, label)
        if dv_ok and family(self.dv.c[lk.dv]) != "guid":
            self.add(f"'{lk.dv}' is not a Dataverse lookup (GUID) column", label)
            dv_ok = False
        elif dv_ok:
            self.writable("dataverse", lk.dv, lk.direction, label)
        ref = self.maps.get(lk.map)
        if ref is None:
            self.add(f"unknown lookup map '{lk.map}'", label)
            return
        if dv_ok and (pointed := references(self.dv.c[lk.dv])) and ref.dv not in pointed:
            self.add(
                f"Dataverse '{lk.dv}' refers to '{', '.join(sorted(pointed))}', "
                f"but map '{ref.name}' syncs '{ref.dv}'",
                label,
            )
        if len(ref.key) != 1:
            self.add(
                f"map '{ref.name}' has a key of {len(ref.key)} columns; "
                "a lookup resolves only through a one-column key (plus company)",
                label,
            )
        elif fo_ok:
            self.lookup_value(lk, ref, label)
        if ref.company is not None and self.tmap.company is None:
            self.add(
                f"map '{ref.name}' is company-striped, so this map needs 'company' to resolve it",
                label,
            )
        if lk is self.tmap.company and ref.company is not None:
            self.add(f"company map '{ref.name}' must not itself be company-striped", label)

    def lookup_value(self, lk: Lookup, ref: TableMap, label: str) -> None:
        ref_table = self.fo_tables.get(ref.fo)
        ref_column = ref.key[0][0]
        if ref_table is None or ref_column not in ref_table.c:
            return  # named where that map is checked
        mine, theirs = family(self.fo.c[lk.fo]), family(ref_table.c[ref_column])
        if mine != theirs:
            self.add(
                f"incompatible types: F&O '{lk.fo}' is a {mine}, the key '{ref_column}' of map "
                f"'{ref.name}' a {theirs}",
                label,
            )

    # --- key, filters, writes --------------------------------------------------------------------

    def key(self) -> None:
        for fo_col, dv_col in self.tmap.key:
            label = f"key '{fo_col}'"
            if not (self.known("fo", fo_col, label) & self.known("dataverse", dv_col, label)):
                continue
            fo_kind, dv_kind = family(self.fo.c[fo_col]), family(self.dv.c[dv_col])
            if fo_kind != dv_kind or fo_kind == "guid":
                self.add(
                    f"incompatible types: key {fo_kind} '{fo_col}' ↔ {dv_kind} '{dv_col}'", label
                )
        if not self.tmap.key:
            return  # the loader already named the missing key
        keys: list[tuple[Side, tuple[str, ...], str]] = [
            ("fo", self.tmap.fo_key, "a unique key"),
            ("dataverse", self.tmap.dv_key, "an alternate key"),
        ]
        for side, columns, kind in keys:
            table = self.tables[side]
            if all(c in table.c for c in columns) and frozenset(columns) not in unique_sets(table):
                self.add(f"missing key: {', '.join(columns)} is not {kind} of '{table.name}'")

    def filters(self, side: Side, filters: tuple[Filter, ...]) -> None:
        for flt in filters:
            label = f"{side} filter '{flt.column}'"
            if not self.known(side, flt.column, label):
                continue
            kind = family(self.tables[side].c[flt.column])
            values = flt.value if isinstance(flt.value, list) else [flt.value]
            for value in values:
                if not fits(kind, value):
                    self.add(f"incompatible types: {value!r} does not fit {kind} column", label)
            if flt.op in ("<", "<=", ">", ">=") and kind in ("boolean", "guid"):
                self.add(f"operator '{flt.op}' does not apply to a {kind} column", label)

    def writes(self, side: Side) -> list[tuple[str, str]]:
        """(column, what writes it) for every column this map writes on one side."""
        is_dv = side == "dataverse"
        written = [(dv if is_dv else fo, f"key '{fo}'") for fo, dv in self.tmap.key]
        if self.tmap.company:
            written.append((self.tmap.company.dv if is_dv else self.tmap.company.fo, "company"))
        check = writes_dv if is_dv else writes_fo
        written += [
            (fm.dv if is_dv else fm.fo, f"field '{fm.fo}'")
            for fm in self.tmap.fields
            if check(fm.direction)
        ]
        written += [
            (lk.dv if is_dv else lk.fo, f"lookup '{lk.dv}'")
            for lk in self.tmap.lookups
            if check(lk.direction)
        ]
        return written

    def written_once_and_complete(self, side: Side) -> None:
        seen: dict[str, str] = {}
        for column, label in self.writes(side):
            if column in seen:
                self.add(
                    f"{_SIDE[side]} column '{column}' is written twice: by {seen[column]} "
                    f"and by {label}",
                    label,
                )
            seen.setdefault(column, label)
        if side == "fo" and not self.tmap.flows_to_fo:
            return  # nothing is ever inserted into F&O by this map
        for column in required(self.tables[side]):
            if column not in seen:
                self.add(
                    f"missing required column: {_SIDE[side]} '{column}' is NOT NULL without a "
                    "default and nothing in this map writes it",
                    f"column '{column}'",
                )

    def run(self) -> None:
        for fm in self.tmap.fields:
            self.field(fm)
        if self.tmap.company:
            self.lookup(self.tmap.company, "company")
        for lk in self.tmap.lookups:
            self.lookup(lk, f"lookup '{lk.dv}'")
        self.key()
        self.filters("fo", self.tmap.fo_filters)
        self.filters("dataverse", self.tmap.dv_filters)
        self.written_once_and_complete("fo")
        self.written_once_and_complete("dataverse")


def _repeated(values: ValueMap) -> str:
    for side, index in (("F&O", 0), ("Dataverse", 1)):
        seen: dict[Any, Any] = {}
        for pair in values.pairs:
            key = canonical(pair[index])
            if key in seen:
                return f"{side} value {pair[index]!r} appears in two pairs"
            seen[key] = pair
    return "a value appears twice"


def _tables(
    problems: Problems, tmap: TableMap, fo: MetaData, dv: MetaData
) -> dict[Side, Table] | None:
    fo_table, dv_table = fo.tables.get(tmap.fo), dv.tables.get(tmap.dv)
    if fo_table is None:
        problems.add_in(tmap.source, f"unknown F&O table '{tmap.fo}'", tmap.name)
    if dv_table is None:
        problems.add_in(tmap.source, f"unknown Dataverse table '{tmap.dv}'", tmap.name)
    if fo_table is None or dv_table is None:
        return None
    return {"fo": fo_table, "dataverse": dv_table}


def _index(problems: Problems, solutions: list[Solution]) -> dict[str, TableMap]:
    """Maps by name across all solutions; duplicates and missing required solutions reported."""
    known = {s.name for s in solutions}
    by_name: dict[str, TableMap] = {}
    for solution in solutions:
        for needed in solution.requires:
            if needed not in known:
                problems.add_in(
                    solution.source or solution.name,
                    f"requires solution '{needed}', which is not loaded",
                )
        for tmap in solution.maps:
            first = by_name.setdefault(tmap.name, tmap)
            if first is not tmap:
                problems.add_in(
                    tmap.source,
                    f"duplicate map name: also defined in {first.source or 'another solution'}",
                    tmap.name,
                )
    return by_name


def validate(
    solutions: Solution | Iterable[Solution], fo: MetaData, dv: MetaData
) -> list[TableMap]:
    """Check the solutions' maps together; return them in dependency order.

    Solutions are checked as one set because maps look up maps of other solutions (the
    application solution looks up the core solution's legal entities). Raises DW5003 listing
    every problem of every file.
    """
    group = [solutions] if isinstance(solutions, Solution) else list(solutions)
    problems = Problems()
    by_name = _index(problems, group)
    maps = [m for s in group for m in s.maps]
    for tmap in maps:
        tables = _tables(problems, tmap, fo, dv)
        if tables is not None:
            _MapCheck(problems, tmap, tables, by_name, fo.tables).run()
    report_cycles(problems, list(by_name.values()))
    problems.raise_if_any()
    return dependency_order(maps)
