"""Reading solution files (TOML) into the map model, naming file > map > field in every problem.

The loader checks the shape of a file (settings, spellings, types); `validate` then checks the
maps against the two schemas. Both collect every problem and raise them together (DW5003).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from dualwrite.errors import ERR
from dualwrite.maps.model import (
    DIRECTIONS,
    FILTER_OPS,
    Direction,
    FieldMap,
    Filter,
    Lookup,
    Side,
    Solution,
    TableMap,
    ValueMap,
)
from dualwrite.maps.problems import Problems
from dualwrite.maps.validate import dependency_order, validate

__all__ = ["Problems", "dependency_order", "load_solution", "load_solution_text", "validate"]

# Semantic versioning 2.0.0: MAJOR.MINOR.PATCH with optional pre-release and build parts.
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
# The settings each table may hold: a misspelt one ("direciton") would otherwise be ignored
# silently and the field would sync in the default direction.
_ALLOWED = {
    "file": {"solution", "maps"},
    "solution": {"name", "version", "publisher", "description", "requires"},
    "map": {"name", "fo", "dataverse", "master", "company", "key", "fields", "lookups", "filters"},
    "field": {"fo", "dataverse", "direction", "values", "default"},
    "values": {"pairs", "default_dataverse", "default_fo"},
    "lookup": {"fo", "dataverse", "map", "direction"},
    "company": {"fo", "dataverse", "map"},
    "key": {"fo", "dataverse"},
    "filters": {"fo", "dataverse"},
    "filter": {"column", "op", "value"},
}
_NO_VALUE_OPS = ("is_null", "not_null")


class _Reader:
    """One file's parse: every helper adds problems instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.problems = Problems(source)

    def table(self, raw: Any, kind: str, *where: str) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.problems.add(f"{kind} must be a table {{...}}, not {_kind(raw)}", *where)
            return None
        self.settings(raw, kind, *where)
        return raw

    def settings(self, raw: dict[str, Any], kind: str, *where: str) -> None:
        for key in sorted(set(raw) - _ALLOWED[kind]):
            allowed = ", ".join(sorted(_ALLOWED[kind]))
            self.problems.add(f"unknown setting '{key}' (allowed: {allowed})", *where)

    def tables(self, raw: Any, kind: str, *where: str) -> list[dict[str, Any]]:
        """The tables of a list; each caller checks its settings where it can name the item."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problems.add(f"'{kind}' entries must be a list [...], not {_kind(raw)}", *where)
            return []
        for item in raw:
            if not isinstance(item, dict):
                self.problems.add(f"{kind} must be a table {{...}}, not {_kind(item)}", *where)
        return [item for item in raw if isinstance(item, dict)]

    def text(self, raw: dict[str, Any], key: str, *where: str) -> str | None:
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problems.add(f"'{key}' must be a non-empty text", *where)
        return None

    def direction(self, raw: dict[str, Any], *where: str) -> Direction:
        value = raw.get("direction", "<->")
        if isinstance(value, str) and value in DIRECTIONS:
            return DIRECTIONS[value]
        self.problems.add(f"direction {value!r} is not one of ->, <-, <->", *where)
        return "both"

    def value_map(self, raw: Any, *where: str) -> ValueMap | None:
        values = self.table(raw, "values", *where)
        if values is None:
            return None
        pairs = values.get("pairs")
        if (
            not isinstance(pairs, list)
            or not pairs
            or not all(isinstance(p, list) and len(p) == 2 for p in pairs)
        ):
            self.problems.add(
                "values.pairs must be a non-empty list of [fo value, dataverse value]", *where
            )
            return None
        return ValueMap(
            pairs=tuple((fo, dv) for fo, dv in pairs),
            default_dv=values.get("default_dataverse"),
            default_fo=values.get("default_fo"),
        )

    def field(self, raw: dict[str, Any], map_name: str) -> FieldMap | None:
        where = (map_name, f"field '{raw.get('fo', raw.get('dataverse', '?'))}'")
        self.settings(raw, "field", *where)
        fo, dv = self.text(raw, "fo", *where), self.text(raw, "dataverse", *where)
        direction = self.direction(raw, *where)
        values = self.value_map(raw["values"], *where) if "values" in raw else None
        if fo is None or dv is None:
            return None
        return FieldMap(fo, dv, direction, values, raw.get("default"))

    def lookup(self, raw: dict[str, Any], map_name: str, label: str) -> Lookup | None:
        where = (map_name, label)
        self.settings(raw, "company" if label == "company" else "lookup", *where)
        fo, dv = self.text(raw, "fo", *where), self.text(raw, "dataverse", *where)
        target = self.text(raw, "map", *where)
        direction = self.direction(raw, *where)
        if fo is None or dv is None or target is None:
            return None
        return Lookup(fo=fo, dv=dv, map=target, direction=direction)

    def filters(self, raw: Any, map_name: str, side: Side) -> tuple[Filter, ...]:
        out = []
        for item in self.tables(raw, "filter", map_name, f"{side} filter"):
            where = (map_name, f"{side} filter '{item.get('column', '?')}'")
            self.settings(item, "filter", *where)
            column = self.text(item, "column", *where)
            op, value = item.get("op", "="), item.get("value")
            if op not in FILTER_OPS:
                self.problems.add(f"operator {op!r} is not one of {', '.join(FILTER_OPS)}", *where)
            elif op in _NO_VALUE_OPS and "value" in item:
                self.problems.add(f"operator '{op}' takes no 'value'", *where)
            elif op not in _NO_VALUE_OPS and "value" not in item:
                self.problems.add(f"operator '{op}' needs a 'value'", *where)
            elif op == "in" and not isinstance(value, list):
                self.problems.add("operator 'in' needs a list value [...]", *where)
            elif column is not None:
                out.append(Filter(column=column, op=op, value=value))
        return tuple(out)

    def key(self, raw: Any, map_name: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for item in self.tables(raw, "key", map_name, "key"):
            self.settings(item, "key", map_name, "key")
            fo, dv = (
                self.text(item, "fo", map_name, "key"),
                self.text(item, "dataverse", map_name, "key"),
            )
            if fo is not None and dv is not None:
                pairs.append((fo, dv))
        if not pairs:
            self.problems.add("missing key: 'key' must list {fo, dataverse} column pairs", map_name)
        return tuple(pairs)

    def table_map(self, raw: dict[str, Any], number: int) -> TableMap | None:
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problems.add("every map needs a 'name'", f"map #{number}")
            return None
        name = name.strip()
        self.settings(raw, "map", name)
        fo, dv = self.text(raw, "fo", name), self.text(raw, "dataverse", name)
        key = self.key(raw.get("key"), name)
        fields = [self.field(f, name) for f in self.tables(raw.get("fields"), "field", name)]
        lookups = [
            self.lookup(lk, name, f"lookup '{lk.get('dataverse', '?')}'")
            for lk in self.tables(raw.get("lookups"), "lookup", name)
        ]
        company = None
        if "company" in raw:
            if isinstance(raw["company"], dict):
                company = self.lookup(raw["company"], name, "company")
            else:
                self.problems.add(
                    f"company must be a table {{...}}, not {_kind(raw['company'])}", name, "company"
                )
        filters = self.table(raw.get("filters", {}), "filters", name, "filters") or {}
        master = raw.get("master", "fo")
        if master not in ("fo", "dataverse"):
            self.problems.add(f"master {master!r} must be 'fo' or 'dataverse'", name)
            master = "fo"
        if fo is None or dv is None:
            return None
        return TableMap(
            name=name,
            fo=fo,
            dv=dv,
            key=key,
            fields=tuple(f for f in fields if f),
            lookups=tuple(lk for lk in lookups if lk),
            company=company,
            fo_filters=self.filters(filters.get("fo"), name, "fo"),
            dv_filters=self.filters(filters.get("dataverse"), name, "dataverse"),
            master=master,
            source=self.problems.source,
        )

    def solution(self, data: dict[str, Any]) -> Solution | None:
        self.table(data, "file")
        if "solution" not in data:
            self.problems.add("missing the [solution] table (name, version, publisher)")
        head = self.table(data.get("solution", {}), "solution", "[solution]") or {}
        name = self.text(head, "name", "[solution]")
        version = self.text(head, "version", "[solution]")
        publisher = self.text(head, "publisher", "[solution]")
        if version is not None and not _SEMVER.match(version):
            self.problems.add(f"version {version!r} is not a semantic version like 1.0.0")
        requires = head.get("requires", [])
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            self.problems.add("'requires' must be a list of solution names", "[solution]")
            requires = []
        description = head.get("description", "")
        if not isinstance(description, str):
            self.problems.add("'description' must be a text", "[solution]")
        raw_maps = self.tables(data.get("maps"), "map")
        if data.get("maps") in (None, []):
            self.problems.add("a solution needs at least one [[maps]] table")
        maps = [self.table_map(m, n) for n, m in enumerate(raw_maps, start=1)]
        names = [m.name for m in maps if m]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.problems.add("duplicate map name", dup)
        if name is None or version is None or publisher is None:
            return None
        return Solution(
            name=name,
            version=version,
            publisher=publisher,
            description=description if isinstance(description, str) else "",
            requires=tuple(requires),
            maps=tuple(m for m in maps if m),
            source=self.problems.source,
        )


def _kind(value: Any) -> str:
    names = {list: "a list", dict: "a table", str: "a text", type(None): "nothing"}
    return names.get(type(value), type(value).__name__)


def load_solution_text(text: str, source: str) -> Solution:
    """Parse one solution file's text; raises DW5003 listing every problem of its shape."""
    reader = _Reader(source)
    solution = None
    try:
        solution = reader.solution(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        reader.problems.add(f"not valid TOML: {exc}")
    reader.problems.raise_if_any()
    if solution is None:  # cannot happen: every part that could not be read was named above
        raise ERR.INTERNAL.error()
    return solution


def load_solution(path: str | Path) -> Solution:
    """Parse a solution file; problems name the file by its name."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ERR.INVALID_INPUT.error(field="solution file", problem=f"{path}: {problem}") from None
    return load_solution_text(text, path.name)
