"""Reading solution files (TOML) into the map model, collecting every problem with its place."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from dualwrite.errors import ERR
from dualwrite.maps.model import (
    DIRECTIONS,
    FILTER_OPS,
    FieldMap,
    Filter,
    Lookup,
    Solution,
    TableMap,
    ValueMap,
)

_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class Problems:
    """Every problem found, each as `file > map > field: what is wrong`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, problem: str, *where: str) -> None:
        place = " > ".join([self.source, *[w for w in where if w]])
        self.items.append(f"{place}: {problem}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ERR.MAP_INVALID.error(
                source=self.source, count=len(self.items), problems="\n  ".join(self.items)
            )


def _direction(value: Any, problems: Problems, *where: str) -> Any:
    if value not in DIRECTIONS:
        problems.add(f"direction {value!r} is not one of ->, <-, <->", *where)
        return "both"
    return DIRECTIONS[value]


def _value_map(raw: Any, problems: Problems, *where: str) -> ValueMap | None:
    if raw is None:
        return None
    pairs = raw.get("pairs") if isinstance(raw, dict) else None
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        problems.add("values.pairs must be a list of [fo value, dataverse value] pairs", *where)
        return None
    return ValueMap(
        pairs=tuple((p[0], p[1]) for p in pairs),
        default_dv=raw.get("default_dataverse"),
        default_fo=raw.get("default_fo"),
    )


def _field(raw: dict[str, Any], problems: Problems, map_name: str) -> FieldMap | None:
    label = f"field '{raw.get('fo', '?')}'"
    if not isinstance(raw.get("fo"), str) or not isinstance(raw.get("dataverse"), str):
        problems.add("a field needs 'fo' and 'dataverse' column names", map_name, label)
        return None
    return FieldMap(
        fo=raw["fo"],
        dv=raw["dataverse"],
        direction=_direction(raw.get("direction", "<->"), problems, map_name, label),
        values=_value_map(raw.get("values"), problems, map_name, label),
        default=raw.get("default"),
    )


def _lookup(raw: Any, problems: Problems, map_name: str, label: str) -> Lookup | None:
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), str) for k in ("fo", "dataverse", "map")
    ):
        problems.add("a lookup needs 'fo', 'dataverse' and 'map'", map_name, label)
        return None
    return Lookup(
        fo=raw["fo"],
        dv=raw["dataverse"],
        map=raw["map"],
        direction=_direction(raw.get("direction", "<->"), problems, map_name, label),
    )


def _filters(raw: Any, problems: Problems, map_name: str, side: str) -> tuple[Filter, ...]:
    out = []
    for item in raw or []:
        if not isinstance(item, dict) or not isinstance(item.get("column"), str):
            problems.add("a filter needs a 'column'", map_name, f"{side} filter")
            continue
        op = item.get("op", "=")
        if op not in FILTER_OPS:
            problems.add(
                f"operator {op!r} is not one of {', '.join(FILTER_OPS)}",
                map_name,
                f"{side} filter '{item['column']}'",
            )
            continue
        out.append(Filter(column=item["column"], op=op, value=item.get("value")))
    return tuple(out)


def _table_map(raw: dict[str, Any], problems: Problems, source: str) -> TableMap | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add("every map needs a 'name'")
        return None
    missing = [k for k in ("fo", "dataverse") if not isinstance(raw.get(k), str)]
    if missing:
        problems.add(f"missing {' and '.join(missing)} table", name)
        return None
    key_raw = raw.get("key") or []
    key = tuple(
        (k["fo"], k["dataverse"])
        for k in key_raw
        if isinstance(k, dict)
        and isinstance(k.get("fo"), str)
        and isinstance(k.get("dataverse"), str)
    )
    if not key or len(key) != len(key_raw):
        problems.add("missing key: 'key' must list {fo, dataverse} column pairs", name)
    fields = tuple(f for f in (_field(r, problems, name) for r in raw.get("fields", [])) if f)
    lookups = tuple(
        lk
        for lk in (
            _lookup(r, problems, name, f"lookup '{r.get('dataverse', '?')}'")
            for r in raw.get("lookups", [])
        )
        if lk
    )
    company = _lookup(raw["company"], problems, name, "company") if "company" in raw else None
    master = raw.get("master", "fo")
    if master not in ("fo", "dataverse"):
        problems.add(f"master {master!r} must be 'fo' or 'dataverse'", name)
        master = "fo"
    filters = raw.get("filters", {})
    return TableMap(
        name=name.strip(),
        fo=raw["fo"],
        dv=raw["dataverse"],
        key=key,
        fields=fields,
        lookups=lookups,
        company=company,
        fo_filters=_filters(filters.get("fo"), problems, name, "fo"),
        dv_filters=_filters(filters.get("dataverse"), problems, name, "dataverse"),
        master=master,
        source=source,
    )


def load_solution_text(text: str, source: str) -> Solution:
    """Parse one solution; raises DW5003 listing every structural problem."""
    problems = Problems(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add(f"not valid TOML: {exc}")
        problems.raise_if_any()
    head = data.get("solution", {})
    for key in ("name", "version", "publisher"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            problems.add(f"[solution] needs '{key}'")
    if isinstance(head.get("version"), str) and not _SEMVER.match(head["version"]):
        problems.add(f"version {head['version']!r} is not like 1.0.0")
    maps = tuple(m for m in (_table_map(r, problems, source) for r in data.get("maps", [])) if m)
    names = [m.name for m in maps]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.add("duplicate map name", dup)
    problems.raise_if_any()
    return Solution(
        name=head["name"].strip(),
        version=head["version"],
        publisher=head["publisher"],
        description=head.get("description", ""),
        requires=tuple(head.get("requires", [])),
        maps=maps,
        source=source,
    )


def load_solution(path: Path) -> Solution:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ERR.INVALID_INPUT.error(
            field="solution file", problem=f"{path}: {exc.strerror}"
        ) from None
    return load_solution_text(text, path.name)
