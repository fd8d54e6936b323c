"""Deterministic, streaming demo data for F&O and Dataverse stores, inserted in bounded batches."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

from sqlalchemy import Connection, Table

from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, connected, ensure_legal_entities, require_tables
from dualwrite.stores.demo_data import (
    CURRENCIES,
    CUSTOMER_GROUPS,
    FIRST,
    GROUP_TERMS,
    JOBS,
    LAST,
    PAYMENT_TERMS,
    PRODUCTS,
    VENDOR_GROUPS,
    WORDS,
    city,
    company_profile,
    organization_name,
    phone,
)
from dualwrite.stores.dv_generator import dv_id, seed_dataverse
from dualwrite.stores.seeding import (
    DEFAULT_COMPANIES,
    Progress,
    Row,
    check_request,
    company_share,
    insert_absent,
    insert_stream,
    next_number,
    share_of,
)

__all__ = ["Progress", "dv_id", "seed_dataverse", "seed_fo"]


def _fo_reference(conn: Connection, companies: Sequence[str]) -> None:
    currencies = [{"currencycode": c, "name": n, "symbol": s} for c, n, s in CURRENCIES]
    insert_absent(conn, fo.currencies, ["currencycode"], currencies)
    terms = [
        {"dataareaid": co, "name": n, "description": f"{d} days", "numberofdays": d}
        for co in companies
        for n, d in PAYMENT_TERMS
    ]
    insert_absent(conn, fo.paymentterms, ["dataareaid", "name"], terms)
    groups = [
        {"dataareaid": co, "customergroupid": g, "description": d, "paymenttermid": GROUP_TERMS}
        for co in companies
        for g, d in CUSTOMER_GROUPS
    ]
    insert_absent(conn, fo.customergroups, ["dataareaid", "customergroupid"], groups)
    vendor_groups = [
        {"dataareaid": co, "vendorgroupid": g, "description": d, "paymenttermid": GROUP_TERMS}
        for co in companies
        for g, d in VENDOR_GROUPS
    ]
    insert_absent(conn, fo.vendorgroups, ["dataareaid", "vendorgroupid"], vendor_groups)


class _FoRows:
    """Row streams for one seeding run; numbers continue after each company's highest key."""

    def __init__(self, conn: Connection, rng: random.Random, companies: Sequence[str]) -> None:
        self.conn, self.rng, self.companies = conn, rng, companies
        # Customers made in this run, per company: (first number, how many); contacts use them.
        self.customers: dict[str, tuple[int, int]] = {}

    def _starts(self, table: Table, column: str, prefix: Callable[[str], str]) -> dict[str, int]:
        return {
            co: next_number(self.conn, table, column, prefix(co), dataareaid=co)
            for co in self.companies
        }

    def customers_v3(self, n: int) -> Iterator[Row]:
        rng = self.rng
        start = self._starts(fo.customersv3, "customeraccount", lambda co: f"{co[:2]}-")
        self.customers = {co: (start[co], k) for co, k in share_of(self.companies, n).items()}
        for company, ordinal in company_share(self.companies, n):
            country, currency = company_profile(company)
            number = start[company] + ordinal
            name = organization_name(rng)
            yield {
                "dataareaid": company,
                "customeraccount": f"{company[:2]}-{number:06d}",
                "partytype": "Organization",
                "organizationname": name,
                "customergroupid": rng.choice(CUSTOMER_GROUPS)[0],
                "salescurrencycode": currency,
                "paymentterms": rng.choice(PAYMENT_TERMS)[0],
                "creditlimit": Decimal(rng.randrange(0, 500_000, 500)),
                "creditlimitisunlimited": rng.random() < 0.05,
                "onholdstatus": "Yes" if rng.random() < 0.03 else "No",
                "addressstreet": f"{rng.randint(1, 9999)} {rng.choice(WORDS)} Street",
                "addresscity": city(rng, country),
                "addresszipcode": f"{rng.randint(10000, 99999)}",
                "addresscountryregionid": country,
                "primarycontactemail": f"info{number}@{name.split()[0].lower()}.example",
                "primarycontactphone": phone(rng),
            }

    def vendors_v2(self, n: int) -> Iterator[Row]:
        rng = self.rng
        start = self._starts(fo.vendorsv2, "vendoraccountnumber", lambda co: f"V{co[:2]}-")
        for company, ordinal in company_share(self.companies, n):
            country, currency = company_profile(company)
            number = start[company] + ordinal
            name = organization_name(rng)
            yield {
                "dataareaid": company,
                "vendoraccountnumber": f"V{company[:2]}-{number:06d}",
                "vendororganizationname": name,
                "vendorgroupid": rng.choice(VENDOR_GROUPS)[0],
                "currencycode": currency,
                "paymenttermsname": rng.choice(PAYMENT_TERMS)[0],
                "onholdstatus": "No",
                "addresscity": city(rng, country),
                "addresscountryregionid": country,
                "primaryemailaddress": f"sales{number}@{name.split()[0].lower()}.example",
                "primaryphonenumber": phone(rng),
            }

    def released_products(self, n: int) -> Iterator[Row]:
        rng = self.rng
        start = self._starts(fo.releasedproductsv2, "itemnumber", lambda _co: "P")
        for company, ordinal in company_share(self.companies, n):
            number = start[company] + ordinal
            kind = rng.choice(PRODUCTS)
            yield {
                "dataareaid": company,
                "itemnumber": f"P{number:07d}",
                "productname": f"{rng.choice(WORDS)} {kind} {number}",
                "productdescription": f"A {kind.lower()} from the demo catalogue",
                "salesprice": Decimal(rng.randrange(500, 500_000)) / 100,
                "isstocked": rng.random() < 0.9,
            }

    def contact_persons(self, n: int) -> Iterator[Row]:
        rng = self.rng
        start = self._starts(fo.contactpersons, "contactpersonid", lambda _co: "CP-")
        for company, ordinal in company_share(self.companies, n):
            number = start[company] + ordinal
            first, last = rng.choice(FIRST), rng.choice(LAST)
            # A contact works for a customer made in this run, when there is one in its company.
            first_customer, made = self.customers.get(company, (0, 0))
            customer = first_customer + rng.randrange(made) if made else None
            yield {
                "dataareaid": company,
                "contactpersonid": f"CP-{number:06d}",
                "firstname": first,
                "lastname": last,
                "customeraccount": f"{company[:2]}-{customer:06d}" if customer else None,
                "jobtitle": rng.choice(JOBS),
                "email": f"{first.lower()}.{number}@contact.example",
                "phone": phone(rng),
            }


def seed_fo(
    url: str,
    *,
    legal_entities: Sequence[str] = DEFAULT_COMPANIES,
    customers: int = 0,
    vendors: int = 0,
    products: int = 0,
    contacts: int = 0,
    seed: int = 42,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Add legal entities and reference data (if absent), then `customers`/`vendors`/… new rows
    spread over the companies, to a prepared F&O store. Returns the bulk rows added per table;
    the same seed on an equal store gives the same rows."""
    counts = {"customers": customers, "vendors": vendors, "products": products}
    companies = check_request(legal_entities, batch_size, counts | {"contacts": contacts})
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    ensure_legal_entities(url, companies)
    written: dict[str, int] = {}
    with connected(url) as engine:
        require_tables(engine, url, Side.FO, fo.metadata.tables)
        with engine.begin() as conn:
            _fo_reference(conn, companies)
            rows = _FoRows(conn, rng, companies)
            plan = [
                (fo.customersv3, customers, rows.customers_v3),
                (fo.vendorsv2, vendors, rows.vendors_v2),
                (fo.releasedproductsv2, products, rows.released_products),
                (fo.contactpersons, contacts, rows.contact_persons),
            ]
            for table, count, stream in plan:
                if count:
                    written[table.name] = insert_stream(
                        conn, table, stream(count), count, batch_size, progress
                    )
    return written
