"""Transforms: directions, value maps with defaults, constant defaults, filters, round trips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualwrite.maps import (
    FieldMap,
    Filter,
    Lookup,
    TableMap,
    ValueMap,
    default_solutions,
    matches_filters,
    to_dataverse,
    to_fo,
)

MAPS = {m.name: m for s in default_solutions() for m in s.maps}
ACCOUNTS: TableMap = MAPS["Customers V3 (accounts)"]
PRODUCTS: TableMap = MAPS["Released products (products)"]
YES_NO = ValueMap((("No", 0), ("Yes", 1)), default_dv=0, default_fo="No")

CUSTOMER = {
    "dataareaid": "USMF",
    "customeraccount": "US-000001",
    "organizationname": "Contoso Traders",
    "creditlimit": Decimal("5000"),
    "creditlimitisunlimited": False,
    "onholdstatus": "Yes",
    "addresscity": "Seattle",
    "customergroupid": "10",
    "salescurrencycode": "USD",
    "paymentterms": None,
    "partytype": "Organization",
}


def _map(*fields: FieldMap, lookups: tuple[Lookup, ...] = ()) -> TableMap:
    return TableMap("T", "fo_t", "dv_t", (("code", "dv_code"),), fields=fields, lookups=lookups)


def test_fo_row_to_dataverse_values_and_lookups() -> None:
    values, needs = to_dataverse(ACCOUNTS, CUSTOMER)
    assert values["accountnumber"] == "US-000001"
    assert values["name"] == "Contoso Traders"
    assert values["creditonhold"] is True
    assert values["address1_city"] == "Seattle"
    assert values["emailaddress1"] is None
    assert "msdyn_customergroupid" not in values  # resolved by the engine, not here
    assert {(n.lookup.dv, n.value) for n in needs} == {
        ("msdyn_company", "USMF"),
        ("msdyn_customergroupid", "10"),
        ("transactioncurrencyid", "USD"),
        ("msdyn_paymentterm", None),
    }


def test_directions_decide_what_flows() -> None:
    tmap = _map(
        FieldMap("a", "dv_a", "fo_to_dv"),
        FieldMap("b", "dv_b", "dv_to_fo"),
        FieldMap("c", "dv_c", "both"),
        lookups=(Lookup("g", "dv_g", "Groups", "fo_to_dv"),),
    )
    values, needs = to_dataverse(tmap, {"code": "K", "a": 1, "b": 2, "c": 3, "g": "10"})
    assert values == {"dv_code": "K", "dv_a": 1, "dv_c": 3}
    assert [n.value for n in needs] == ["10"]
    back, needs = to_fo(tmap, {"dv_code": "K", "dv_a": 1, "dv_b": 2, "dv_c": 3, "dv_g": "guid"})
    assert back == {"code": "K", "b": 2, "c": 3}
    assert needs == []  # the group lookup only flows to Dataverse


def test_value_map_both_ways_with_its_defaults() -> None:
    tmap = _map(FieldMap("hold", "dv_hold", "both", YES_NO))
    assert to_dataverse(tmap, {"hold": "Yes"})[0]["dv_hold"] == 1
    assert to_dataverse(tmap, {"hold": "Maybe"})[0]["dv_hold"] == 0  # not listed: default_dv
    assert to_fo(tmap, {"dv_hold": 1})[0]["hold"] == "Yes"
    assert to_fo(tmap, {"dv_hold": True})[0]["hold"] == "Yes"  # drivers hand 1 back as True
    assert to_fo(tmap, {"dv_hold": Decimal("1.0")})[0]["hold"] == "Yes"
    assert to_fo(tmap, {"dv_hold": 7})[0]["hold"] == "No"  # not listed: default_fo
    assert to_fo(tmap, {"dv_hold": "1"})[0]["hold"] == "No"  # text is never a number


def test_constant_default_replaces_a_missing_value_in_both_directions() -> None:
    tmap = _map(FieldMap("days", "dv_days", "both", default=30))
    assert to_dataverse(tmap, {"days": None})[0]["dv_days"] == 30
    assert to_dataverse(tmap, {})[0]["dv_days"] == 30  # missing counts as NULL
    assert to_dataverse(tmap, {"days": 0})[0]["dv_days"] == 0  # 0 is a value, not missing
    assert to_fo(tmap, {"dv_days": None})[0]["days"] == 30


def test_value_map_defaults_and_constant_defaults_of_the_accounts_map() -> None:
    values, _ = to_dataverse(ACCOUNTS, {**CUSTOMER, "onholdstatus": "All", "creditlimit": None})
    assert values["creditonhold"] is True  # not in the table: default_dataverse
    assert values["creditlimit"] == 0  # constant default for a missing value
    back, _ = to_fo(ACCOUNTS, {"creditonhold": None, "name": "X", "accountnumber": "A"})
    assert back["onholdstatus"] is None


def test_one_way_fields_do_not_flow_back() -> None:
    values, _ = to_dataverse(
        PRODUCTS, {"itemnumber": "P1", "productname": "Speaker", "dataareaid": "USMF"}
    )
    assert values["name"] == "Speaker"
    back, needs = to_fo(PRODUCTS, {"productnumber": "P1", "name": "Renamed"})
    assert back == {"itemnumber": "P1"}
    assert [n.lookup.dv for n in needs] == ["msdyn_company"]  # the company always resolves


@pytest.mark.parametrize(
    ("pairs", "invertible"),
    [
        ((("No", 0), ("Yes", 1)), True),
        ((("No", 0), ("Yes", 0)), False),  # two F&O values become one Dataverse value
        ((("No", 0), ("no", 1)), True),  # text is case-sensitive
        (((True, 1), (1, 2)), False),  # True and 1 are one value to a database driver
        (((1, "a"), (1.0, "b")), False),
    ],
)
def test_invertible_value_maps(pairs: tuple[tuple[Any, Any], ...], invertible: bool) -> None:
    assert ValueMap(pairs).invertible() is invertible


@pytest.mark.parametrize(
    ("flt", "row", "passes"),
    [
        (Filter("t", "=", "Person"), {"t": "Person"}, True),
        (Filter("t", "=", "Person"), {"t": "person"}, False),
        (Filter("t", "!=", "Person"), {"t": "Org"}, True),
        (Filter("t", "!=", "Person"), {"t": None}, False),  # NULL passes no comparison
        (Filter("n", ">=", 10), {"n": Decimal("10.00")}, True),
        (Filter("n", "<", 10), {"n": 9.5}, True),
        (Filter("n", ">", 10), {"n": None}, False),
        (Filter("n", ">", 10), {"n": "11"}, False),  # text against a number never passes
        (Filter("s", "in", [0, 1]), {"s": 1}, True),
        (Filter("s", "in", [0, 1]), {"s": True}, True),
        (Filter("s", "in", [0, 1]), {"s": 2}, False),
        (Filter("s", "is_null"), {"s": None}, True),
        (Filter("s", "is_null"), {}, True),
        (Filter("s", "not_null"), {"s": 0}, True),
    ],
)
def test_filter_operators(flt: Filter, row: dict[str, Any], passes: bool) -> None:
    tmap = TableMap("T", "a", "b", (("k", "k"),), fo_filters=(flt,))
    assert matches_filters(tmap, "fo", row) is passes
    assert matches_filters(tmap, "dataverse", row)  # the other side has no filters


def test_filters_of_the_default_maps() -> None:
    assert matches_filters(ACCOUNTS, "fo", CUSTOMER)
    assert not matches_filters(ACCOUNTS, "fo", {**CUSTOMER, "partytype": "Person"})
    contacts = MAPS["Customers V3 (contacts)"]
    assert matches_filters(contacts, "dataverse", {"msdyn_iscustomer": True})
    assert not matches_filters(contacts, "dataverse", {"msdyn_iscustomer": None})


# --- round trips: a two-way field with an invertible transform comes back as it went -------------

both_way = st.fixed_dictionaries(
    {
        "organizationname": st.text(max_size=40),
        "creditlimit": st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
        "creditlimitisunlimited": st.booleans(),
        "onholdstatus": st.sampled_from(["Yes", "No"]),
        "addresscity": st.none() | st.text(max_size=20),
        "primarycontactemail": st.none() | st.emails(),
    }
)


@given(row=both_way)
def test_two_way_fields_of_the_accounts_map_round_trip(row: dict[str, object]) -> None:
    source = {**CUSTOMER, **row}
    values, _ = to_dataverse(ACCOUNTS, source)
    back, _ = to_fo(ACCOUNTS, values)
    for column in row:
        assert back[column] == source[column], column


plain = st.one_of(st.text(max_size=8), st.integers(), st.booleans())


@st.composite
def invertible_fields(draw: st.DrawFn) -> tuple[TableMap, dict[str, Any]]:
    """A map of two-way fields, some through random invertible value maps, and a row for it."""
    fields: list[FieldMap] = []
    row: dict[str, Any] = {"code": draw(st.text(max_size=5))}
    for i in range(draw(st.integers(1, 5))):
        domain = draw(st.lists(st.text(max_size=4), min_size=1, max_size=5, unique=True))
        images = draw(
            st.lists(st.integers(), min_size=len(domain), max_size=len(domain), unique=True)
        )
        values = ValueMap(tuple(zip(domain, images, strict=True))) if draw(st.booleans()) else None
        default = draw(st.none() | plain)
        fields.append(FieldMap(f"f{i}", f"dv_f{i}", "both", values, default))
        row[f"f{i}"] = draw(st.sampled_from(domain)) if values else draw(plain)
    return _map(*fields), row


@given(case=invertible_fields())
def test_two_way_fields_with_invertible_value_maps_round_trip(
    case: tuple[TableMap, dict[str, Any]],
) -> None:
    tmap, row = case
    assert all(f.values is None or f.values.invertible() for f in tmap.fields)
    back, _ = to_fo(tmap, to_dataverse(tmap, row)[0])
    assert back == row
