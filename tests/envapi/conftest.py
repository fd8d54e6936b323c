"""A linked world served over real HTTP: contoso's F&O environment `contoso-test` (USMF, DEMF)
and the Power Platform environment `Sales` with its Dataverse, both stores on the test's
backend and seeded, the app listening on a loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from dualwrite.api.app import create_app
from dualwrite.control.models import PlatformEnvironment
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_dataverse, seed_fo
from factories import PASSWORD, linked_world
from liveserver import serving

CUSTOMERS = 24  # per seeding: spread over USMF and DEMF
ACCOUNTS = 30


@dataclass
class World:
    url: str  # the server
    fo_url: str  # data stores
    dv_url: str
    environment_id: str  # the Power Platform environment (Dataverse)
    fo_name: str = "contoso-test"

    @property
    def dataverse(self) -> str:
        return f"{self.url}/dataverse/{self.environment_id}/api/data/v9.2"

    @property
    def fo(self) -> str:
        return f"{self.url}/environments/{self.fo_name}/data"

    def token(self, alias: str = "admin", domain: str = "contoso.onmicrosoft.com") -> str:
        response = httpx.post(
            f"{self.url}/api/v1/auth/token",
            json={"upn": f"{alias}@{domain}", "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def client(self, alias: str = "admin", domain: str = "contoso.onmicrosoft.com") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(alias, domain)}"}
        return httpx.Client(headers=headers, timeout=60)


@pytest.fixture
def world(
    backend: str, new_database: Callable[[str], str], settings: Settings, store: ControlStore
) -> Iterator[World]:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        environment_id = session.scalars(
            select(PlatformEnvironment.id).where(PlatformEnvironment.name == "Sales")
        ).one()
    seed_fo(fo_url, legal_entities=["USMF", "DEMF"], customers=CUSTOMERS)
    seed_dataverse(dv_url, legal_entities=["USMF"], accounts=ACCOUNTS)
    with serving(create_app(settings, store)) as url:
        yield World(url, fo_url, dv_url, environment_id)


@pytest.fixture
def admin(world: World) -> Iterator[httpx.Client]:
    with world.client() as client:
        yield client
