"""Seed 002 in the browser while the linked Dataverse does not answer, on SQLite stores (the
Dataverse file replaced by a folder) and on PostgreSQL stores (connections refused): the
Dual-write page and the map page render with their navigation and say which store is
unreachable, why and since when (file paths only for administrators); Stop shows the seed's
403 (DW9404) on the page and changes nothing; Force Not running works for a tenant admin."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import make_url

from backends import require_backend
from browser_support import LiveServer, sign_in
from dualwrite.engine.states import MapAction, MapState
from dualwrite.identity import directory
from dualwrite.lifecycle import dualwrite_app, environments, ppi, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import links, tablemaps, wizard
from dualwrite.platform import environments as platform
from factories import add_user, bootstrap
from outages import store_down

ENV = "contoso-test"
DW = "dw@contoso.onmicrosoft.com"
ACCOUNTS = "Customers V3 (accounts)"
CURRENCIES = "Currencies (transactioncurrencies)"
SINCE = re.compile(r"Dataverse data store unreachable since (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


def _world(server: LiveServer, fo_url: str, dv_url: str) -> None:
    """contoso-test linked to Sales (both stores at the given URLs), the accounts map and the
    maps it looks up Running; dw holds the Dual-write user role."""
    with server.store.session() as session:
        admin = bootstrap(session)
        directory.assign_license(session, admin, admin.upn, "D365_FINANCE")
        add_user(session, admin, "dw")
        project = projects.create_project(session, admin, "ERP")
        spec = EnvironmentSpec(name=ENV, data_store_url=fo_url, legal_entities=["USMF"])
        env = environments.deploy_environment(session, server.settings, admin, project, spec)
        target = platform.create_environment(
            session,
            server.settings,
            admin,
            name="Sales",
            region="West US",
            dataverse=True,
            dataverse_url=dv_url,
        )
        ppi.integrate(session, env, target)
        dualwrite_app.install(session, env, target)
        link = wizard.create_link(session, admin, env, target, ["USMF"], consent=True)
        links.apply_default_solutions(session, admin, link)
        environments.grant_environment_role(session, admin, env, DW, "dualwrite-user")
        started = tablemaps.run_maps(session, admin, link, [ACCOUNTS])
        ids = [m.id for m in started]
    with server.store.session() as session:  # the worker's own move, made here at once
        for map_id in ids:
            tablemaps.engine_transition(
                session, map_id, MapState.INITIALIZING, MapAction.INITIALIZED
            )


def _urls(backend: str, new_database: Callable[[str], str]) -> tuple[str, str]:
    require_backend(backend)
    fo_url, dv_url = new_database(backend), new_database(backend)
    if backend == "postgresql":  # trust authentication ignores it; no page may show it
        dv_url = make_url(dv_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    return fo_url, dv_url


def _state(page: Any, name: str) -> Any:
    return page.locator(f'td.state[data-map="{name}"]')


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_dualwrite_and_map_pages_with_the_dataverse_down(
    page: Any, live_server: LiveServer, new_database: Callable[[str], str], backend: str
) -> None:
    fo_url, dv_url = _urls(backend, new_database)
    _world(live_server, fo_url, dv_url)
    dualwrite = f"{live_server.url}/environments/{ENV}/dualwrite"
    sign_in(page, live_server)
    with store_down(dv_url):
        shown = page.goto(dualwrite)
        assert shown is not None and shown.status == 200
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        banner = page.locator("#store-unreachable-1")
        expect(banner).to_contain_text(SINCE)
        expect(banner).to_contain_text("DW2002")
        expect(banner).to_contain_text("Cannot connect to the database at")
        if backend == "sqlite":  # an administrator sees where the file is
            expect(banner).to_contain_text(str(make_url(dv_url).database))
        else:
            expect(banner).to_contain_text("postgres:***@127.0.0.1")
        since = SINCE.search(banner.inner_text())
        assert since is not None
        expect(_state(page, ACCOUNTS)).to_have_text("Running")
        maps = page.get_by_role("table", name="Table maps")
        expect(maps.get_by_role("row", name=re.compile(re.escape(ACCOUNTS)))).to_contain_text(
            "unavailable"
        )

        # Stop needs the Dataverse: seed 002's 403 on the page, with the fix; nothing changes.
        page.get_by_label(f"Select {ACCOUNTS}").check()
        with page.expect_response(lambda r: r.request.method == "POST") as stop:
            page.get_by_role("button", name="Stop", exact=True).click()
        assert stop.value.status == 403
        alert = page.locator("div.error")
        expect(alert).to_contain_text("DW9404")
        expect(alert).to_contain_text("Error from token exchange: User is not allowed to access")
        expect(alert).to_contain_text("(403) Forbidden.")
        expect(alert).to_contain_text("A tenant administrator can mark the maps Not running")
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(_state(page, ACCOUNTS)).to_have_text("Running")

        # Force Not running from the Dual-write page (a reason is required).
        page.get_by_label(f"Select {ACCOUNTS}").check()
        page.get_by_role("button", name="Force Not running").click()
        expect(page.locator("div.error")).to_contain_text("DW1000")
        page.get_by_label(f"Select {ACCOUNTS}").check()
        page.get_by_label("Reason for forcing the selected maps to Not running").fill("away")
        page.get_by_role("button", name="Force Not running").click()
        expect(_state(page, ACCOUNTS)).to_have_text("Not running")
        expect(page.locator("div.error")).to_have_count(0)
        expect(page.locator("#store-unreachable-1")).to_contain_text(since.group(1))  # unmoved

        # The map page: states and settings from the control store, the rest unavailable.
        shown = page.goto(f"{dualwrite}/maps/{CURRENCIES}")
        assert shown is not None and shown.status == 200
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.locator("#store-unreachable-1")).to_contain_text(since.group(1))
        expect(page.get_by_role("table", name="Field mappings")).to_contain_text("isocurrencycode")
        expect(page.get_by_text("Unavailable while a data store does not answer.")).to_have_count(2)
        page.get_by_label(
            "Force to Not running (when the other side is unavailable) — reason"
        ).fill("Dataverse away")
        page.get_by_role("button", name="Force Not running").click()
        status = page.get_by_text("Status", exact=True).locator("xpath=following-sibling::dd[1]")
        expect(status).to_have_text("Not running")
        expect(page.get_by_role("table", name="Activity log of this map")).to_contain_text(
            "Forced to Not running (was Running): Dataverse away"
        )

        # An operator who is not an administrator: the same, without file paths.
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, live_server, DW)
        page.goto(dualwrite)
        banner = page.locator("#store-unreachable-1")
        expect(banner).to_contain_text(since.group(1))
        expect(banner).to_contain_text("DW2002")
        content = page.content()
        assert "s3cret-pw" not in content
        if backend == "sqlite":
            assert str(Path(str(make_url(dv_url).database)).parent) not in content
            expect(banner).to_contain_text("<path shown to administrators>")
        page.get_by_label(f"Select {CURRENCIES}").check()  # already Not running: DW5001 inline
        page.get_by_role("button", name="Pause").click()
        expect(page.locator("div.error")).to_contain_text("DW5001")
        expect(page.get_by_role("button", name="Force Not running")).to_have_count(0)
    page.goto(dualwrite)  # it answers again: no banner, figures back
    expect(page.locator("#store-unreachable-1")).to_have_count(0)
    expect(page.get_by_role("table", name="Recent activity")).to_contain_text(
        "Dataverse data store reachable again"
    )
