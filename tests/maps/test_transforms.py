"""Transforms: directions, value maps with defaults, constant defaults, filters, round trips."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.model import TableMap
from dualwrite.maps.transforms import matches_filters, to_dataverse, to_fo

MAPS = {m.name: m for s in default_solutions() for m in s.maps}
ACCOUNTS: TableMap = MAPS["Customers V3 (accounts)"]
PRODUCTS: TableMap = MAPS["Released products (products)"]

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


def test_fo_row_to_dataverse_values_and_lookups() -> None:
    values, needs = to_dataverse(ACCOUNTS, CUSTOMER)
    assert values["accountnumber"] == "US-000001"
    assert values["name"] == "Contoso Traders"
    assert values["creditonhold"] is True
    assert values["address1_city"] == "Seattle"
    assert values["emailaddress1"] is None
    assert {(n.lookup.dv, n.value) for n in needs} == {
        ("msdyn_company", "USMF"),
        ("msdyn_customergroupid", "10"),
        ("transactioncurrencyid", "USD"),
        ("msdyn_paymentterm", None),
    }


def test_value_map_defaults_and_constant_defaults() -> None:
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
    assert [n.lookup.dv for n in needs] == ["msdyn_company"]


def test_filters() -> None:
    assert matches_filters(ACCOUNTS, "fo", CUSTOMER)
    assert not matches_filters(ACCOUNTS, "fo", {**CUSTOMER, "partytype": "Person"})
    contacts = MAPS["Customers V3 (contacts)"]
    assert matches_filters(contacts, "dataverse", {"msdyn_iscustomer": True})
    assert not matches_filters(contacts, "dataverse", {"msdyn_iscustomer": None})


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
def test_two_way_fields_round_trip(row: dict[str, object]) -> None:
    source = {**CUSTOMER, **row}
    values, _ = to_dataverse(ACCOUNTS, source)
    back, _ = to_fo(ACCOUNTS, values)
    for column in row:
        assert back[column] == source[column], column
