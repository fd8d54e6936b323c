"""Compiled map plans give exactly what maps.transforms gives, for every default map."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualwrite.engine.apply import new_guid
from dualwrite.engine.plan import plan_for, source_columns
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.model import Filter, TableMap
from dualwrite.maps.transforms import matches_filters, to_dataverse, to_fo
from dualwrite.maps.validate import validate
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo

MAPS = validate(default_solutions(), fo.metadata, dv.metadata)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.decimals(-3, 3, places=2),
    st.sampled_from(["", "No", "Yes", "Person", "Organization", "USD", "10", "1", "true"]),
    st.text(max_size=4),
)


def _columns(tmap: TableMap) -> tuple[set[str], set[str]]:
    fo_cols = {f for f, _ in tmap.key} | {fm.fo for fm in tmap.fields}
    dv_cols = {d for _, d in tmap.key} | {fm.dv for fm in tmap.fields}
    for lk in tmap.all_lookups():
        fo_cols.add(lk.fo)
        dv_cols.add(lk.dv)
    fo_cols |= {f.column for f in tmap.fo_filters}
    dv_cols |= {f.column for f in tmap.dv_filters}
    return fo_cols, dv_cols


@pytest.mark.parametrize("tmap", MAPS, ids=lambda m: m.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_plan_matches_transforms(tmap: TableMap, data: st.DataObject) -> None:
    fo_cols, dv_cols = _columns(tmap)
    fo_row = {c: data.draw(VALUES) for c in sorted(fo_cols)}
    dv_row = {c: data.draw(VALUES) for c in sorted(dv_cols)}
    for direction, row, reference in (
        ("fo_to_dv", fo_row, to_dataverse),
        ("dv_to_fo", dv_row, to_fo),
    ):
        plan = plan_for(tmap, direction)  # type: ignore[arg-type]
        expected, needs = reference(tmap, row)
        assert plan.values(row) == expected
        assert list(plan.values(row)) == list(expected)
        assert [(lp.lookup, row.get(lp.source)) for lp in plan.lookups] == [
            (n.lookup, n.value) for n in needs
        ]
        side = "fo" if direction == "fo_to_dv" else "dataverse"
        assert plan.matches(row) == matches_filters(tmap, side, row)  # type: ignore[arg-type]
        # Initial sync reads only `source_columns`: the same record comes out of that part.
        part = {c: row[c] for c in source_columns(tmap, direction) if c in row}  # type: ignore[arg-type]
        assert plan.values(part) == plan.values(row)
        assert plan.matches(part) == plan.matches(row)
        assert [part.get(lp.source) for lp in plan.lookups] == [
            row.get(lp.source) for lp in plan.lookups
        ]


OPS = ["=", "!=", "<", "<=", ">", ">=", "in", "is_null", "not_null"]


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(OPS), wanted=VALUES, many=st.lists(VALUES, max_size=3), value=VALUES)
def test_every_filter_operator_agrees(op: str, wanted: Any, many: list[Any], value: Any) -> None:
    flt = Filter("c", op, many if op == "in" else wanted)
    tmap = TableMap("t", "a", "b", key=(("k", "k"),), fo_filters=(flt,))
    row = {"c": value}
    assert plan_for(tmap, "fo_to_dv").matches(row) == matches_filters(tmap, "fo", row)


def test_value_maps_take_the_first_pair_and_fall_back() -> None:
    accounts = next(m for m in MAPS if m.name == "Customers V3 (accounts)")
    plan = plan_for(accounts, "fo_to_dv")
    hold = next(fp for fp in plan.fields if fp.target == "creditonhold")
    assert hold.convert("Yes") is True
    assert hold.convert("No") is False
    assert hold.convert("Maybe") is True  # default_dataverse
    back = next(fp for fp in plan_for(accounts, "dv_to_fo").fields if fp.source == "creditonhold")
    assert back.convert(Decimal(1)) == "Yes"
    assert back.convert(0) == "No"


def test_new_guids_are_canonical_version_4_and_distinct() -> None:
    guids = [new_guid() for _ in range(5000)]
    assert len(set(guids)) == len(guids)
    for guid in guids[:500]:
        parsed = uuid.UUID(guid)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, guid)
