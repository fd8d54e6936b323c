"""Record pages: search takes LIKE's wildcards literally on every backend; offsets and record IDs
out of range are bad input (DW1000), never a server error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dualwrite import records
from dualwrite.errors import DualWriteError
from dualwrite.stores.datastore import Side, prepare_data_store
from factories import PASSWORD

UPN = "admin@contoso.onmicrosoft.com"

Login = Callable[[str], dict[str, str]]
NAMES = {
    "PCT": "100% pure",
    "USC": "under_score",
    "BSL": "back\\slash",
    "SLH": "slash/dash",  # '/' is the escape character autoescape uses
    "PLN": "plain",
}


@pytest.fixture
def currencies(database_url: str) -> records.Where:
    prepare_data_store(database_url, Side.FO)
    where = records.Where(database_url, Side.FO, None)
    for code, name in NAMES.items():
        records.create_record(where, "currencies", {"currencycode": code, "name": name})
    return where


def _found(where: records.Where, search: str) -> list[str]:
    return sorted(r["name"] for r in records.list_records(where, "currencies", search).rows)


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("%", ["100% pure"]),
        ("_", ["under_score"]),
        ("\\", ["back\\slash"]),
        ("/", ["slash/dash"]),
        ("0% P", ["100% pure"]),  # case-insensitive, still literal
        ("", sorted(NAMES.values())),
    ],
)
def test_search_takes_wildcards_literally(
    currencies: records.Where, search: str, names: list[str]
) -> None:
    assert _found(currencies, search) == names
    assert records.list_records(currencies, "currencies", search).total == len(names)


def test_offsets_out_of_range_are_bad_input(currencies: records.Where) -> None:
    for offset in (-1, 2**63, 10**20):
        with pytest.raises(DualWriteError) as err:
            records.list_records(currencies, "currencies", offset=offset)
        assert (err.value.code, err.value.status) == ("DW1000", 422)
        assert "offset" in err.value.message
    assert records.list_records(currencies, "currencies", offset=2**63 - 1).rows == []


@pytest.fixture
def browser(client: TestClient, login: Login) -> tuple[TestClient, str]:
    """Signed in with the browser's session cookie (and its CSRF token), with an environment."""
    admin = login("admin")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    body = {"name": "contoso-test", "project": "Rollout", "legal_entities": ["USMF"]}
    assert client.post("/api/v1/environments", json=body, headers=admin).status_code == 201
    signed = client.post("/api/v1/auth/login", json={"upn": UPN, "password": PASSWORD})
    assert signed.status_code == 200
    return client, signed.json()["csrf_token"]


@pytest.mark.parametrize(
    "url",
    [
        "/records/fo/contoso-test/customers?offset=99999999999999999999",
        "/records/fo/contoso-test/customers?offset=-1",
        "/records/fo/contoso-test/customers/99999999999999999999",
        "/records/fo/contoso-test/customers/%C2%B2",  # '²': isdigit() says yes, int() says no
        "/records/fo/contoso-test/customers/" + "9" * 5000,  # past int()'s digit limit
    ],
)
def test_pages_refuse_numbers_out_of_range_with_the_error_page(
    browser: tuple[TestClient, str], url: str
) -> None:
    client, _csrf = browser
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "DW1000" in response.text


def test_the_page_searches_literally(browser: tuple[TestClient, str]) -> None:
    client, csrf = browser
    base = "/records/fo/contoso-test/currencies"
    for code, name in NAMES.items():
        form = {"csrf_token": csrf, "currencycode": code, "name": name, "symbol": ""}
        assert client.post(base, data=form, follow_redirects=False).status_code == 303
    page = client.get(base, params={"q": "%"})
    assert page.status_code == 200
    assert "100% pure" in page.text
    assert "plain" not in page.text and "under_score" not in page.text
    assert "1\N{EN DASH}1 of 1" in page.text
