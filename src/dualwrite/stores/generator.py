"""Deterministic, streaming demo data for F&O and Dataverse stores, inserted in bounded batches."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table, func, select

from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import KNOWN_COMPANIES, connected, ensure_legal_entities

Progress = Callable[[str, int, int], None]
Row = dict[str, Any]

CURRENCIES = [
    ("USD", "US Dollar", "$"),
    ("EUR", "Euro", "€"),
    ("GBP", "Pound Sterling", "£"),
    ("CAD", "Canadian Dollar", "$"),
    ("JPY", "Japanese Yen", "¥"),
    ("CHF", "Swiss Franc", "Fr."),
]
CUSTOMER_GROUPS = [
    ("10", "Wholesale customers"),
    ("20", "Major customers"),
    ("30", "Retail customers"),
    ("40", "Internet customers"),
    ("80", "Other customers"),
    ("90", "Intercompany customers"),
]
VENDOR_GROUPS = [("10", "Parts vendors"), ("20", "Services vendors"), ("30", "Utilities")]
PAYMENT_TERMS = [("Net10", 10), ("Net30", 30), ("Net45", 45), ("Net60", 60), ("COD", 0)]
CITIES = {
    "USA": ["Seattle", "Redmond", "Chicago", "Atlanta", "Dallas", "Boston", "Denver"],
    "DEU": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt"],
    "GBR": ["London", "Manchester", "Leeds", "Bristol", "Glasgow"],
}
WORDS = [
    "Adventure",
    "Alpine",
    "Blue",
    "Coho",
    "Contoso",
    "Fabrikam",
    "Fourth",
    "Litware",
    "Lucerne",
    "Margie",
    "Northwind",
    "Proseware",
    "Tailspin",
    "Trey",
    "Wide",
    "World",
    "Wingtip",
    "Woodgrove",
    "Humongous",
    "Graphic",
    "Southridge",
    "Consolidated",
]
SUFFIXES = ["Traders", "Supplies", "Works", "Industries", "Outfitters", "Foods", "Electric"]
FIRST = ["Anna", "Ben", "Chloé", "David", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Schmidt", "O'Neil", "Nakamura", "García", "Smith", "Dubois", "Rossi", "Müller"]
PRODUCTS = ["Speaker", "Cable", "Amplifier", "Receiver", "Projector", "Headphones", "Mixer"]

DV_NAMESPACE = uuid.UUID("6b1c1e8e-3f7a-4c55-9a0e-5d3f3b0d6a11")


def dv_id(*parts: str) -> str:
    """A stable GUID for a Dataverse row, derived from its alternate key."""
    return str(uuid.uuid5(DV_NAMESPACE, "/".join(parts)))


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _insert_stream(
    conn: Connection,
    table: Table,
    rows: Iterable[Row],
    total: int,
    batch_size: int,
    progress: Progress | None,
) -> int:
    """Insert lazily generated rows batch by batch; memory is bounded by `batch_size`."""
    done = 0
    for batch in _batches(rows, batch_size):
        conn.execute(table.insert(), batch)
        done += len(batch)
        if progress:
            progress(table.name, done, total)
    if progress and total == 0:
        progress(table.name, 0, 0)
    return done


def _company_share(companies: Sequence[str], count: int) -> Iterator[tuple[str, int]]:
    """Spread `count` rows over the companies: (company, ordinal within company)."""
    for i in range(count):
        yield companies[i % len(companies)], i // len(companies)


def _next_number(conn: Connection, table: Table, column: str, company: str, prefix: str) -> int:
    """Continue after the highest generated number, so re-seeding adds rows instead of failing.

    Generated keys are zero-padded, so the string maximum is the numeric maximum."""
    col = table.c[column]
    query = select(func.max(col)).where(table.c.dataareaid == company, col.like(f"{prefix}%"))
    highest = conn.scalar(query)
    digits = (highest or "")[len(prefix) :]
    return int(digits) + 1 if digits.isdigit() else 1


def _company_name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)}"


def _missing(conn: Connection, table: Table, key: str, rows: list[Row]) -> list[Row]:
    have = set(conn.scalars(select(table.c[key])))
    return [r for r in rows if r[key] not in have]


def _missing_per_company(conn: Connection, table: Table, key: str, rows: list[Row]) -> list[Row]:
    have = {tuple(r) for r in conn.execute(select(table.c.dataareaid, table.c[key]))}
    return [r for r in rows if (r["dataareaid"], r[key]) not in have]


def _fo_reference(conn: Connection, companies: Sequence[str]) -> None:
    currencies = [{"currencycode": c, "name": n, "symbol": s} for c, n, s in CURRENCIES]
    if rows := _missing(conn, fo.currencies, "currencycode", currencies):
        conn.execute(fo.currencies.insert(), rows)
    terms = [
        {"dataareaid": co, "name": n, "description": f"{d} days", "numberofdays": d}
        for co in companies
        for n, d in PAYMENT_TERMS
    ]
    if rows := _missing_per_company(conn, fo.paymentterms, "name", terms):
        conn.execute(fo.paymentterms.insert(), rows)
    groups = [
        {"dataareaid": co, "customergroupid": g, "description": d, "paymenttermid": "Net30"}
        for co in companies
        for g, d in CUSTOMER_GROUPS
    ]
    if rows := _missing_per_company(conn, fo.customergroups, "customergroupid", groups):
        conn.execute(fo.customergroups.insert(), rows)
    vgroups = [
        {"dataareaid": co, "vendorgroupid": g, "description": d, "paymenttermid": "Net30"}
        for co in companies
        for g, d in VENDOR_GROUPS
    ]
    if rows := _missing_per_company(conn, fo.vendorgroups, "vendorgroupid", vgroups):
        conn.execute(fo.vendorgroups.insert(), rows)


def _fo_customers(
    conn: Connection, rng: random.Random, companies: Sequence[str], n: int
) -> Iterator[Row]:
    start = {
        co: _next_number(conn, fo.customersv3, "customeraccount", co, f"{co[:2]}-")
        for co in companies
    }
    for company, ordinal in _company_share(companies, n):
        _name, country, currency = KNOWN_COMPANIES.get(company, ("", "USA", "USD"))
        number = start[company] + ordinal
        name = _company_name(rng)
        yield {
            "dataareaid": company,
            "customeraccount": f"{company[:2]}-{number:06d}",
            "partytype": "Organization",
            "organizationname": name,
            "customergroupid": rng.choice(CUSTOMER_GROUPS)[0],
            "salescurrencycode": currency or "USD",
            "paymentterms": rng.choice(PAYMENT_TERMS)[0],
            "creditlimit": Decimal(rng.randrange(0, 500_000, 500)),
            "creditlimitisunlimited": rng.random() < 0.05,
            "onholdstatus": "Yes" if rng.random() < 0.03 else "No",
            "addressstreet": f"{rng.randint(1, 9999)} {rng.choice(WORDS)} Street",
            "addresscity": rng.choice(CITIES.get(country or "USA", CITIES["USA"])),
            "addresszipcode": f"{rng.randint(10000, 99999)}",
            "addresscountryregionid": country,
            "primarycontactemail": f"info{number}@{name.split()[0].lower()}.example",
            "primarycontactphone": f"+1-555-{rng.randint(1000000, 9999999)}",
        }


def _fo_vendors(
    conn: Connection, rng: random.Random, companies: Sequence[str], n: int
) -> Iterator[Row]:
    start = {
        co: _next_number(conn, fo.vendorsv2, "vendoraccountnumber", co, f"V{co[:2]}-")
        for co in companies
    }
    for company, ordinal in _company_share(companies, n):
        _name, country, currency = KNOWN_COMPANIES.get(company, ("", "USA", "USD"))
        number = start[company] + ordinal
        name = _company_name(rng)
        yield {
            "dataareaid": company,
            "vendoraccountnumber": f"V{company[:2]}-{number:06d}",
            "vendororganizationname": name,
            "vendorgroupid": rng.choice(VENDOR_GROUPS)[0],
            "currencycode": currency or "USD",
            "paymenttermsname": rng.choice(PAYMENT_TERMS)[0],
            "onholdstatus": "No",
            "addresscity": rng.choice(CITIES.get(country or "USA", CITIES["USA"])),
            "addresscountryregionid": country,
            "primaryemailaddress": f"sales{number}@{name.split()[0].lower()}.example",
            "primaryphonenumber": f"+1-555-{rng.randint(1000000, 9999999)}",
        }


def _fo_products(
    conn: Connection, rng: random.Random, companies: Sequence[str], n: int
) -> Iterator[Row]:
    start = {
        co: _next_number(conn, fo.releasedproductsv2, "itemnumber", co, "P") for co in companies
    }
    for company, ordinal in _company_share(companies, n):
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


def _fo_contacts(
    conn: Connection, rng: random.Random, companies: Sequence[str], n: int
) -> Iterator[Row]:
    start = {
        co: _next_number(conn, fo.contactpersons, "contactpersonid", co, "CP-") for co in companies
    }
    for company, ordinal in _company_share(companies, n):
        number = start[company] + ordinal
        first, last = rng.choice(FIRST), rng.choice(LAST)
        yield {
            "dataareaid": company,
            "contactpersonid": f"CP-{number:06d}",
            "firstname": first,
            "lastname": last,
            "jobtitle": rng.choice(["Buyer", "Owner", "Accountant", "Purchasing manager"]),
            "email": f"{first.lower()}.{number}@contact.example",
            "phone": f"+1-555-{rng.randint(1000000, 9999999)}",
        }


def seed_fo(
    url: str,
    *,
    legal_entities: Sequence[str] = ("USMF", "DEMF", "GBSI"),
    customers: int = 0,
    vendors: int = 0,
    products: int = 0,
    contacts: int = 0,
    seed: int = 42,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Add reference data and `customers`/`vendors`/… rows to an F&O store; returns rows added."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    companies = list(legal_entities)
    ensure_legal_entities(url, companies)
    written: dict[str, int] = {}
    with connected(url) as engine, engine.begin() as conn:
        _fo_reference(conn, companies)
        plan = [
            (fo.customersv3, customers, _fo_customers),
            (fo.vendorsv2, vendors, _fo_vendors),
            (fo.releasedproductsv2, products, _fo_products),
            (fo.contactpersons, contacts, _fo_contacts),
        ]
        for table, count, rows in plan:
            if count:
                stream = rows(conn, rng, companies, count)
                written[table.name] = _insert_stream(
                    conn, table, stream, count, batch_size, progress
                )
    return written


def _dv_reference(conn: Connection, companies: Sequence[str]) -> None:
    company_rows = [
        {
            "cdm_companyid": dv_id("cdm_company", co),
            "cdm_companycode": co,
            "cdm_name": KNOWN_COMPANIES.get(co, (f"Company {co}",))[0],
        }
        for co in companies
    ]
    if rows := _missing(conn, dv.cdm_company, "cdm_companycode", company_rows):
        conn.execute(dv.cdm_company.insert(), rows)
    currencies = [
        {
            "transactioncurrencyid": dv_id("transactioncurrency", c),
            "isocurrencycode": c,
            "currencyname": n,
            "currencysymbol": s,
        }
        for c, n, s in CURRENCIES
    ]
    if rows := _missing(conn, dv.transactioncurrency, "isocurrencycode", currencies):
        conn.execute(dv.transactioncurrency.insert(), rows)
    groups = [
        {
            "msdyn_customergroupid": dv_id("msdyn_customergroup", co, g),
            "msdyn_groupid": g,
            "msdyn_description": d,
            "msdyn_company": dv_id("cdm_company", co),
        }
        for co in companies
        for g, d in CUSTOMER_GROUPS
    ]
    if rows := _missing(conn, dv.msdyn_customergroup, "msdyn_customergroupid", groups):
        conn.execute(dv.msdyn_customergroup.insert(), rows)


def _dv_accounts(
    conn: Connection, rng: random.Random, companies: Sequence[str], n: int
) -> Iterator[Row]:
    existing = conn.scalar(select(func.count()).select_from(dv.account)) or 0
    for company, ordinal in _company_share(companies, n):
        _name, country, currency = KNOWN_COMPANIES.get(company, ("", "USA", "USD"))
        number = existing + ordinal + 1
        name = _company_name(rng)
        yield {
            "accountid": dv_id("account", company, f"CRM-{number:06d}"),
            "accountnumber": f"CRM-{number:06d}",
            "name": name,
            "msdyn_company": dv_id("cdm_company", company),
            "msdyn_customergroupid": dv_id(
                "msdyn_customergroup", company, rng.choice(CUSTOMER_GROUPS)[0]
            ),
            "transactioncurrencyid": dv_id("transactioncurrency", currency or "USD"),
            "creditlimit": Decimal(rng.randrange(0, 200_000, 500)),
            "address1_city": rng.choice(CITIES.get(country or "USA", CITIES["USA"])),
            "address1_country": country,
            "emailaddress1": f"hello{number}@{name.split()[0].lower()}.example",
            "telephone1": f"+1-555-{rng.randint(1000000, 9999999)}",
        }


def seed_dataverse(
    url: str,
    *,
    legal_entities: Sequence[str] = ("USMF", "DEMF", "GBSI"),
    accounts: int = 0,
    seed: int = 42,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Add companies, currencies, customer groups and `accounts` rows to a Dataverse store."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    companies = list(legal_entities)
    written: dict[str, int] = {}
    with connected(url) as engine, engine.begin() as conn:
        _dv_reference(conn, companies)
        if accounts:
            stream = _dv_accounts(conn, rng, companies, accounts)
            written["account"] = _insert_stream(
                conn, dv.account, stream, accounts, batch_size, progress
            )
    return written
