"""A generic OData v4 client (python-odata) reads our `$metadata`, builds its entity classes
from it, queries with its own filters and orderings, and follows our server paging."""

from __future__ import annotations

import requests
from odata import ODataService
from rich.console import Console

from envapi.conftest import ACCOUNTS, CUSTOMERS, World


def _service(world: World, root: str, page: int | None = None) -> ODataService:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.token()}"
    if page is not None:
        session.headers["Prefer"] = f"odata.maxpagesize={page}"
    return ODataService(
        f"{root}/", reflect_entities=True, session=session, console=Console(quiet=True)
    )


def test_generic_client_reads_dataverse(world: World) -> None:
    service = _service(world, world.dataverse, page=7)  # 30 accounts in pages of 7
    account = service.entities["accounts"]
    everyone = list(service.query(account).order_by(account.name.asc()))
    assert len(everyone) == ACCOUNTS
    names = [a.name for a in everyone]
    assert names == sorted(names)
    picked = everyone[5]
    found = list(service.query(account).filter(account.accountnumber == picked.accountnumber))
    assert [a.accountid for a in found] == [picked.accountid]
    assert service.query(account).get(picked.accountid).name == picked.name


def test_generic_client_reads_fo(world: World) -> None:
    service = _service(world, world.fo, page=5)
    customer = service.entities["CustomersV3"]
    rows = list(service.query(customer))
    assert len(rows) == CUSTOMERS // 2  # the default company
    assert {r.dataAreaId for r in rows} == {"usmf"}
    big = list(service.query(customer).filter(customer.CreditLimit >= 0))
    assert len(big) == len([r for r in rows if r.CreditLimit is not None and r.CreditLimit >= 0])
