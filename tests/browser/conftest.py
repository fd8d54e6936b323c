"""Browser tests: the real app served by uvicorn on a loopback port (with the sync worker and the
job runner, as `dualwrite serve` runs them), driven by Playwright through Debian's Chromium.

Locally they skip when Chromium or Playwright is missing; under CI (which installs both) they
are required."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import services_required
from browser_support import DW, ENV, LiveServer
from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.identity import directory
from dualwrite.jobs.runner import JobRunner
from dualwrite.lifecycle import dualwrite_app, environments, ppi, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import links, wizard
from dualwrite.ops.health import Supervisor
from dualwrite.platform import environments as platform
from dualwrite.stores.generator import seed_fo
from factories import add_user, bootstrap, settings_for
from liveserver import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need(reason: str) -> None:
    if services_required():
        pytest.fail(f"browser tests are required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = settings_for(tmp_path)
    store = ControlStore(settings.control_url)
    store.upgrade()
    stop = threading.Event()
    threads = [
        threading.Thread(target=Supervisor(store).run, args=(stop,), daemon=True),
        threading.Thread(target=JobRunner(store, poll_seconds=0.1).run, args=(stop,), daemon=True),
    ]
    for thread in threads:
        thread.start()
    with serving(create_app(settings, store)) as base:
        yield LiveServer(base, store, settings)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        _need(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def linked(live_server: LiveServer) -> LiveServer:
    """contoso-test integrated with and linked to Sales, default maps published; dw holds the
    Dual-write user role there, pat is a plain user."""
    with live_server.store.session() as session:
        admin = bootstrap(session)
        directory.assign_license(session, admin, admin.upn, "D365_FINANCE")
        add_user(session, admin, "dw")
        add_user(session, admin, "pat")
        project = projects.create_project(session, admin, "ERP")
        spec = EnvironmentSpec(name=ENV, legal_entities=["USMF"])
        env = environments.deploy_environment(session, live_server.settings, admin, project, spec)
        target = platform.create_environment(
            session,
            live_server.settings,
            admin,
            name="Sales",
            region="West US",
            dataverse=True,
        )
        ppi.integrate(session, env, target)
        dualwrite_app.install(session, env, target)
        link = wizard.create_link(session, admin, env, target, ["USMF"], consent=True)
        links.apply_default_solutions(session, admin, link)
        environments.grant_environment_role(session, admin, env, DW, "dualwrite-user")
        url = env.data_store_url
    seed_fo(url, legal_entities=["USMF"], customers=5)
    return live_server
