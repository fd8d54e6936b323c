"""The shipped solutions: the nine published maps, valid against the reference schemas."""

from __future__ import annotations

from importlib.resources import files

from dualwrite.maps import default_solution_texts, default_solutions, fit_warnings, validate
from dualwrite.stores import dataverse, fo

CORE = {"Legal entities (cdm_companies)", "Currencies (transactioncurrencies)"}
APPLICATION = {
    "Customer groups (msdyn_customergroups)",
    "Customers V3 (accounts)",
    "Customers V3 (contacts)",
    "Vendor groups (msdyn_vendorgroups)",
    "Vendors V2 (msdyn_vendors)",
    "Payment terms (msdyn_paymentterms)",
    "Released products (products)",
}


def test_the_two_solutions_hold_the_nine_maps() -> None:
    core, application = default_solutions()
    assert (core.name, application.name) == (
        "Dual-write core",
        "Dual-write application orchestration",
    )
    assert {m.name for m in core.maps} == CORE
    assert {m.name for m in application.maps} == APPLICATION
    assert application.requires == ("Dual-write core",)
    assert all(s.version == "1.0.0" and s.publisher for s in (core, application))


def test_they_validate_against_the_reference_schemas_in_dependency_order() -> None:
    order = [m.name for m in validate(default_solutions(), fo.metadata, dataverse.metadata)]
    assert set(order) == CORE | APPLICATION
    for before, after in [
        ("Legal entities (cdm_companies)", "Payment terms (msdyn_paymentterms)"),
        ("Payment terms (msdyn_paymentterms)", "Customer groups (msdyn_customergroups)"),
        ("Customer groups (msdyn_customergroups)", "Customers V3 (accounts)"),
        ("Currencies (transactioncurrencies)", "Customers V3 (accounts)"),
        ("Vendor groups (msdyn_vendorgroups)", "Vendors V2 (msdyn_vendors)"),
    ]:
        assert order.index(before) < order.index(after)


def test_integration_keys_are_the_published_ones() -> None:
    maps = {m.name: m for s in default_solutions() for m in s.maps}
    assert maps["Customers V3 (accounts)"].dv_key == ("msdyn_company", "accountnumber")
    assert maps["Customers V3 (accounts)"].fo_key == ("dataareaid", "customeraccount")
    assert maps["Legal entities (cdm_companies)"].dv_key == ("cdm_companycode",)
    assert maps["Currencies (transactioncurrencies)"].dv_key == ("isocurrencycode",)
    for name in APPLICATION:  # every application map is striped by company
        company = maps[name].company
        assert company is not None
        assert (company.map, company.fo, company.dv) == (
            "Legal entities (cdm_companies)",
            "dataareaid",
            "msdyn_company",
        )


def test_the_only_warnings_are_text_lengths() -> None:
    warnings = fit_warnings(default_solutions(), fo.metadata, dataverse.metadata)
    assert warnings
    assert all(
        "characters" in w and w.startswith("dualwrite_application.toml > ") for w in warnings
    )


def test_they_ship_as_package_data() -> None:
    folder = files("dualwrite.maps") / "solutions"
    for name, text in default_solution_texts():
        assert (folder / name).read_text("utf-8") == text
