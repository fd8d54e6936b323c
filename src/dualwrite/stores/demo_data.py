"""The vocabulary demo rows are made of: currencies, groups, payment terms, names and places."""

from __future__ import annotations

import random

from dualwrite.stores.datastore import KNOWN_COMPANIES

# ISO code, name, symbol.
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
# The payment term every generated customer and vendor group defaults to.
GROUP_TERMS = "Net30"
CITIES = {
    "USA": ["Seattle", "Redmond", "Chicago", "Atlanta", "Dallas", "Boston", "Denver"],
    "DEU": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt"],
    "GBR": ["London", "Manchester", "Leeds", "Bristol", "Glasgow"],
    "FRA": ["Paris", "Lyon", "Marseille", "Toulouse", "Lille"],
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
JOBS = ["Buyer", "Owner", "Accountant", "Purchasing manager"]
PRODUCTS = ["Speaker", "Cable", "Amplifier", "Receiver", "Projector", "Headphones", "Mixer"]


def company_profile(code: str) -> tuple[str, str]:
    """(country/region, currency) of a legal entity; unknown ones trade in the USA in USD."""
    _name, country, currency = KNOWN_COMPANIES.get(code, ("", "USA", "USD"))
    return country or "USA", currency or "USD"


def organization_name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)}"


def city(rng: random.Random, country: str) -> str:
    return rng.choice(CITIES.get(country, CITIES["USA"]))


def phone(rng: random.Random) -> str:
    return f"+1-555-{rng.randint(1000000, 9999999)}"
