"""Deterministic, streaming demo data for a Dataverse store: GUIDs derived from alternate keys."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, select

from dualwrite.stores import dataverse as dv
from dualwrite.stores.datastore import Side, company_name, connected, require_tables
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
from dualwrite.stores.seeding import (
    DEFAULT_COMPANIES,
    Progress,
    Row,
    check_request,
    company_share,
    folder,
    insert_absent,
    insert_stream,
    next_number,
)

DV_NAMESPACE = uuid.UUID("6b1c1e8e-3f7a-4c55-9a0e-5d3f3b0d6a11")

# Keys of rows created in Dataverse itself, numbered across companies like Dataverse autonumbers.
ACCOUNT_PREFIX, CONTACT_PREFIX, VENDOR_PREFIX, PRODUCT_PREFIX = "CRM-", "CRMC-", "CRMV-", "CRMP-"


def dv_id(*parts: str) -> str:
    """A stable GUID for a Dataverse row, derived from its alternate key."""
    return str(uuid.uuid5(DV_NAMESPACE, "/".join(parts)))


def _guids(conn: Connection, table: Table, key: Sequence[str]) -> dict[tuple[Any, ...], str]:
    """Folded alternate key -> GUID of a reference table (small), whoever created the rows."""
    pk = table.c[f"{table.name}id"]
    query = select(*(table.c[k] for k in key), pk)
    fold = folder(conn)
    return {tuple(map(fold, row[:-1])): row[-1] for row in conn.execute(query)}


class _References:
    """Companies, currencies, payment terms and groups: added if absent, then looked up by key.

    Rows that already exist keep their GUIDs (the sync engine makes random ones), so the bulk
    rows refer to what is really there rather than to the GUIDs we would have derived."""

    def __init__(self, conn: Connection, companies: Sequence[str]) -> None:
        self.companies = companies
        fold = self.fold = folder(conn)
        insert_absent(
            conn,
            dv.cdm_company,
            ["cdm_companycode"],
            [
                {
                    "cdm_companyid": dv_id("cdm_company", co),
                    "cdm_companycode": co,
                    "cdm_name": company_name(co),
                }
                for co in companies
            ],
        )
        by_code = _guids(conn, dv.cdm_company, ["cdm_companycode"])
        self.company = {co: by_code[(fold(co),)] for co in companies}
        insert_absent(
            conn,
            dv.transactioncurrency,
            ["isocurrencycode"],
            [
                {
                    "transactioncurrencyid": dv_id("transactioncurrency", iso),
                    "isocurrencycode": iso,
                    "currencyname": name,
                    "currencysymbol": symbol,
                }
                for iso, name, symbol in CURRENCIES
            ],
        )
        by_iso = _guids(conn, dv.transactioncurrency, ["isocurrencycode"])
        self.currency = {iso: by_iso[(fold(iso),)] for iso, _name, _symbol in CURRENCIES}
        self.terms = self._striped(
            conn,
            dv.msdyn_paymentterm,
            "msdyn_name",
            [
                {"msdyn_name": n, "msdyn_description": f"{d} days", "msdyn_numberofdays": d}
                for n, d in PAYMENT_TERMS
            ],
        )
        self.customer_groups = self._striped(
            conn,
            dv.msdyn_customergroup,
            "msdyn_groupid",
            [{"msdyn_groupid": g, "msdyn_description": d} for g, d in CUSTOMER_GROUPS],
            with_terms=True,
        )
        self.vendor_groups = self._striped(
            conn,
            dv.msdyn_vendorgroup,
            "msdyn_vendorgroup",
            [{"msdyn_vendorgroup": g, "msdyn_description": d} for g, d in VENDOR_GROUPS],
            with_terms=True,
        )

    def _striped(
        self, conn: Connection, table: Table, key: str, rows: list[Row], with_terms: bool = False
    ) -> dict[tuple[str, str], str]:
        """Add `rows` to every company; returns (company code, key) -> GUID."""
        full = []
        for co in self.companies:
            for row in rows:
                extra = {"msdyn_paymentterm": self.terms[(co, GROUP_TERMS)]} if with_terms else {}
                full.append(
                    row
                    | extra
                    | {
                        f"{table.name}id": dv_id(table.name, co, row[key]),
                        "msdyn_company": self.company[co],
                    }
                )
        insert_absent(conn, table, [key, "msdyn_company"], full)
        found = _guids(conn, table, [key, "msdyn_company"])
        return {
            (co, row[key]): found[(self.fold(row[key]), self.fold(self.company[co]))]
            for co in self.companies
            for row in rows
        }


class _DvRows:
    """Row streams for one seeding run; keys continue after the highest one of each table."""

    def __init__(self, conn: Connection, rng: random.Random, refs: _References) -> None:
        self.conn, self.rng, self.refs = conn, rng, refs
        self.companies = refs.companies
        # Accounts made in this run: (first number, how many); contacts work for them.
        self.accounts = (0, 0)

    def _common(self, company: str) -> Row:
        _country, currency = company_profile(company)
        return {
            "msdyn_company": self.refs.company[company],
            "transactioncurrencyid": self.refs.currency[currency],
        }

    def account_rows(self, n: int) -> Iterator[Row]:
        rng, refs = self.rng, self.refs
        start = next_number(self.conn, dv.account, "accountnumber", ACCOUNT_PREFIX)
        self.accounts = (start, n)
        for i, (company, _ordinal) in enumerate(company_share(self.companies, n)):
            country, _currency = company_profile(company)
            number = f"{ACCOUNT_PREFIX}{start + i:06d}"
            name = organization_name(rng)
            yield self._common(company) | {
                "accountid": dv_id("account", company, number),
                "accountnumber": number,
                "name": name,
                "msdyn_customergroupid": refs.customer_groups[
                    (company, rng.choice(CUSTOMER_GROUPS)[0])
                ],
                "msdyn_paymentterm": refs.terms[(company, rng.choice(PAYMENT_TERMS)[0])],
                "creditlimit": Decimal(rng.randrange(0, 200_000, 500)),
                "address1_city": city(rng, country),
                "address1_country": country,
                "emailaddress1": f"hello{start + i}@{name.split()[0].lower()}.example",
                "telephone1": phone(rng),
            }

    def contact_rows(self, n: int) -> Iterator[Row]:
        rng = self.rng
        start = next_number(self.conn, dv.contact, "msdyn_contactpersonid", CONTACT_PREFIX)
        first_account, made = self.accounts
        k = len(self.companies)
        for i, (company, _ordinal) in enumerate(company_share(self.companies, n)):
            number = f"{CONTACT_PREFIX}{start + i:06d}"
            first, last = rng.choice(FIRST), rng.choice(LAST)
            # Accounts of this run went round-robin, so company j holds indexes j, j+k, j+2k, ...
            j = self.companies.index(company)
            mine = (made - j + k - 1) // k
            parent = None
            if mine:
                account = f"{ACCOUNT_PREFIX}{first_account + j + k * rng.randrange(mine):06d}"
                parent = dv_id("account", company, account)
            yield self._common(company) | {
                "contactid": dv_id("contact", company, number),
                "msdyn_contactpersonid": number,
                "firstname": first,
                "lastname": last,
                "jobtitle": rng.choice(JOBS),
                "emailaddress1": f"{first.lower()}.{start + i}@contact.example",
                "telephone1": phone(rng),
                "parentcustomerid": parent,
            }

    def vendor_rows(self, n: int) -> Iterator[Row]:
        rng, refs = self.rng, self.refs
        start = next_number(self.conn, dv.msdyn_vendor, "msdyn_vendoraccountnumber", VENDOR_PREFIX)
        for i, (company, _ordinal) in enumerate(company_share(self.companies, n)):
            country, _currency = company_profile(company)
            number = f"{VENDOR_PREFIX}{start + i:06d}"
            name = organization_name(rng)
            yield self._common(company) | {
                "msdyn_vendorid": dv_id("msdyn_vendor", company, number),
                "msdyn_vendoraccountnumber": number,
                "msdyn_vendorname": name,
                "msdyn_vendorgroupid": refs.vendor_groups[(company, rng.choice(VENDOR_GROUPS)[0])],
                "msdyn_paymentterm": refs.terms[(company, rng.choice(PAYMENT_TERMS)[0])],
                "msdyn_addresscity": city(rng, country),
                "msdyn_addresscountryregionid": country,
                "msdyn_primaryemailaddress": f"sales{start + i}@{name.split()[0].lower()}.example",
                "msdyn_primaryphonenumber": phone(rng),
            }

    def product_rows(self, n: int) -> Iterator[Row]:
        rng = self.rng
        start = next_number(self.conn, dv.product, "productnumber", PRODUCT_PREFIX)
        for i, (company, _ordinal) in enumerate(company_share(self.companies, n)):
            number = f"{PRODUCT_PREFIX}{start + i:06d}"
            kind = rng.choice(PRODUCTS)
            yield {
                "productid": dv_id("product", company, number),
                "productnumber": number,
                "name": f"{rng.choice(WORDS)} {kind} {start + i}",
                "description": f"A {kind.lower()} from the demo catalogue",
                "msdyn_productsubtype": "Product",
                "price": Decimal(rng.randrange(500, 500_000)) / 100,
                "defaultuomid": "ea",
                "msdyn_isstocked": rng.random() < 0.9,
                "msdyn_company": self.refs.company[company],
            }


def seed_dataverse(
    url: str,
    *,
    legal_entities: Sequence[str] = DEFAULT_COMPANIES,
    accounts: int = 0,
    contacts: int = 0,
    vendors: int = 0,
    products: int = 0,
    seed: int = 42,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Add companies and reference data (if absent), then `accounts`/`contacts`/… new rows spread
    over the companies, to a prepared Dataverse store. Returns the bulk rows added per table;
    the same seed on an equal store gives the same rows, GUIDs included."""
    counts = {"accounts": accounts, "contacts": contacts, "vendors": vendors, "products": products}
    companies = check_request(legal_entities, batch_size, counts)
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    written: dict[str, int] = {}
    with connected(url) as engine:
        require_tables(engine, url, Side.DATAVERSE, dv.metadata.tables)
        with engine.begin() as conn:
            rows = _DvRows(conn, rng, _References(conn, companies))
            plan = [
                (dv.account, accounts, rows.account_rows),
                (dv.contact, contacts, rows.contact_rows),
                (dv.msdyn_vendor, vendors, rows.vendor_rows),
                (dv.product, products, rows.product_rows),
            ]
            for table, count, stream in plan:
                if count:
                    written[table.name] = insert_stream(
                        conn, table, stream(count), count, batch_size, progress
                    )
    return written
