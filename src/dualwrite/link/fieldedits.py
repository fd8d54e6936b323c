"""Field mappings edited on a link, over its solutions' maps: directions and transforms.

Transforms are stored as the texts a person entered (a form, a CLI option, a JSON body) and
typed by the mapped columns when the maps are built, so an edit means the same on every
backend and can be shown back exactly as it was written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Column

from dualwrite.control.models import DualWriteLink
from dualwrite.errors import ERR
from dualwrite.maps.columns import family, parse_constant
from dualwrite.maps.model import (
    Direction,
    FieldMap,
    Solution,
    TableMap,
    ValueMap,
    writes_dv,
)
from dualwrite.stores import dataverse, fo


@dataclass(frozen=True)
class Transform:
    """A field's transform as entered: a constant for a missing value and/or a value map."""

    default: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()  # (F&O value, Dataverse value); none: no value map
    unmatched_dataverse: str | None = None  # Dataverse value for an F&O value not in the pairs
    unmatched_fo: str | None = None  # F&O value for a Dataverse value not in the pairs

    def to_json(self) -> dict[str, Any]:
        return {
            "default": self.default,
            "pairs": [list(p) for p in self.pairs],
            "unmatched_dataverse": self.unmatched_dataverse,
            "unmatched_fo": self.unmatched_fo,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Transform:
        return cls(
            default=raw.get("default"),
            pairs=tuple((str(a), str(b)) for a, b in raw.get("pairs") or ()),
            unmatched_dataverse=raw.get("unmatched_dataverse"),
            unmatched_fo=raw.get("unmatched_fo"),
        )


@dataclass
class FieldEdits:
    """Edits per map, then per Dataverse field."""

    directions: dict[str, dict[str, Direction]] = field(default_factory=dict)
    transforms: dict[str, dict[str, Transform]] = field(default_factory=dict)


def stored_edits(link: DualWriteLink) -> FieldEdits:
    edits = FieldEdits()
    for m in link.table_maps:
        edits.directions[m.name] = json.loads(m.field_directions or "{}")
        raw = json.loads(m.field_transforms or "{}")
        edits.transforms[m.name] = {dv: Transform.from_json(t) for dv, t in raw.items()}
    return edits


def dump_transforms(transforms: dict[str, Transform]) -> str:
    return json.dumps({dv: t.to_json() for dv, t in transforms.items()}, sort_keys=True)


def _columns(tmap: TableMap, fm: FieldMap) -> tuple[Column[Any], Column[Any]] | None:
    fo_table, dv_table = fo.metadata.tables.get(tmap.fo), dataverse.metadata.tables.get(tmap.dv)
    if fo_table is None or dv_table is None or fm.fo not in fo_table.c or fm.dv not in dv_table.c:
        return None  # the validator names the unknown table or column
    return fo_table.c[fm.fo], dv_table.c[fm.dv]


def _parts(
    direction: Direction, t: Transform, fo_kind: str, dv_kind: str
) -> list[tuple[str, str, str | None]]:
    """(what, family, text) of each constant in the transform, in the order a person reads it."""
    parts = [("default", dv_kind if writes_dv(direction) else fo_kind, t.default)]
    for i, (fo_text, dv_text) in enumerate(t.pairs, 1):
        parts += [
            (f"value map pair {i}, F&O value", fo_kind, fo_text),
            (f"value map pair {i}, Dataverse value", dv_kind, dv_text),
        ]
    if t.pairs:
        parts += [
            ("Dataverse value for other F&O values", dv_kind, t.unmatched_dataverse),
            ("F&O value for other Dataverse values", fo_kind, t.unmatched_fo),
        ]
    return parts


def _typed(kind: str, text: str | None, strict: bool, what: str, fm: FieldMap) -> Any:
    if text is None or (text.strip() == "" and kind != "string"):
        if strict and what.startswith("value map pair"):
            # a missing source value takes the default, never a pair: an empty pair is a slip
            raise ERR.INVALID_INPUT.error(
                field=f"{fm.dv}: {what}", problem="is empty; write the value it stands for"
            )
        return None
    try:
        return parse_constant(kind, text)
    except ValueError as problem:
        if not strict:
            return text  # stored before a column changed type: the validator names it
        raise ERR.INVALID_INPUT.error(field=f"{fm.dv}: {what}", problem=str(problem)) from None


def apply_transform(
    tmap: TableMap, fm: FieldMap, t: Transform, *, strict: bool = False
) -> FieldMap:
    """The field with the transform's constants typed by its columns. `strict`: a constant that
    is not of its column's type raises DW1000 naming it (when a person enters it)."""
    columns = _columns(tmap, fm)
    if columns is None:
        return fm
    fo_kind, dv_kind = family(columns[0]), family(columns[1])
    values = [
        _typed(kind, text, strict, what, fm)
        for what, kind, text in _parts(fm.direction, t, fo_kind, dv_kind)
    ]
    default, rest = values[0], values[1:]
    value_map = None
    if t.pairs:
        count = 2 * len(t.pairs)
        pairs = tuple(zip(rest[0:count:2], rest[1:count:2], strict=True))
        value_map = ValueMap(pairs=pairs, default_dv=rest[count], default_fo=rest[count + 1])
    return replace(fm, default=default, values=value_map)


def _edited_map(tmap: TableMap, edits: FieldEdits) -> TableMap:
    directions = edits.directions.get(tmap.name) or {}
    transforms = edits.transforms.get(tmap.name) or {}
    if not directions and not transforms:
        return tmap
    fields = []
    for fm in tmap.fields:
        fm = replace(fm, direction=directions.get(fm.dv, fm.direction))
        if fm.dv in transforms:
            fm = apply_transform(tmap, fm, transforms[fm.dv])
        fields.append(fm)
    return replace(tmap, fields=tuple(fields))


def edited_solution(solution: Solution, edits: FieldEdits) -> Solution:
    return replace(solution, maps=tuple(_edited_map(m, edits) for m in solution.maps))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _shown(value: Any) -> str:
    return _text(value) or "(empty)"


def as_transform(fm: FieldMap) -> Transform:
    """The field's current transform as texts: what an edit form starts from."""
    values = fm.values
    return Transform(
        default=_text(fm.default),
        pairs=tuple((_text(a) or "", _text(b) or "") for a, b in values.pairs) if values else (),
        unmatched_dataverse=_text(values.default_dv) if values else None,
        unmatched_fo=_text(values.default_fo) if values else None,
    )


def describe(fm: FieldMap) -> str:
    """One line for people: "value map No ↔ false, Yes ↔ true (otherwise true / No); default 0"."""
    out = []
    if fm.values is not None:
        pairs = ", ".join(f"{_shown(a)} ↔ {_shown(b)}" for a, b in fm.values.pairs)
        out.append(
            f"value map {pairs} (otherwise {_shown(fm.values.default_dv)} / "
            f"{_shown(fm.values.default_fo)})"
        )
    if fm.default is not None:
        out.append(f"default {_shown(fm.default)}")
    return "; ".join(out)
