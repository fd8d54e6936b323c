"""The administrator's journey in a real browser: sign in → Power Platform integration with an
existing Dataverse → dual-write application → link wizard with health check → Apply Solution →
run maps with initial sync → edit a customer in F&O → watch the account change in Dataverse.
Takes the README's screenshots on the way."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from browser_support import SCREENSHOTS, LiveServer, sign_in
from dualwrite.identity import directory
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.platform import environments as platform
from dualwrite.stores.generator import seed_fo
from factories import bootstrap

ENV = "contoso-sandbox"
ACCOUNTS = "Customers V3 (accounts)"


def build_world(server: LiveServer) -> None:
    """What exists before the journey: a licensed tenant admin, a project with an F&O sandbox
    full of customers, and an existing Power Platform environment with Dataverse."""
    with server.store.session() as session:
        admin = bootstrap(session)
        directory.assign_license(session, admin, admin.upn, "D365_FINANCE")
        project = projects.create_project(session, admin, "ERP rollout")
        spec = EnvironmentSpec(name=ENV, legal_entities=["USMF", "DEMF"])
        url = environments.deploy_environment(
            session, server.settings, admin, project, spec
        ).data_store_url
        platform.create_environment(
            session,
            server.settings,
            admin,
            name="Field Service",
            region="East US",
            dataverse=True,
            dataverse_url=None,
        )
    seed_fo(url, legal_entities=["USMF", "DEMF"], customers=20)


def test_admin_journey(page: Any, live_server: LiveServer) -> None:
    build_world(live_server)
    sign_in(page, live_server)
    expect(page.get_by_label("Signed-in user")).to_contain_text("Global administrator")
    expect(page.get_by_label("Signed-in user")).to_contain_text("contoso.onmicrosoft.com")

    # Lifecycle Services: environment details, Power Platform Integration > Setup.
    page.get_by_role("link", name="Lifecycle Services").click()
    page.get_by_role("link", name=ENV).click()
    page.locator("summary", has_text="Setup").click()
    page.get_by_label("Yes — use an existing one").check()
    page.get_by_label("Power Platform environment (existing Dataverse)").select_option(
        "Field Service"
    )
    page.get_by_role("button", name="Validate").click()
    results = page.get_by_role("table", name="Validation results")
    expect(results).to_contain_text("Same geography as the environment's region")
    expect(results.get_by_text("✗ Failed")).to_have_count(0)
    page.get_by_label("Enter your name (Tenant Admin) to proceed").fill("Tenant Admin")
    page.get_by_role("button", name="Confirm").click()
    app_button = page.locator("summary", has_text="Dual-write application")
    expect(app_button).to_be_visible(timeout=30_000)
    expect(page.locator(".job-succeeded")).to_have_count(1, timeout=30_000)

    # Dual-write application: terms, Configure, the job.
    app_button.click()
    page.get_by_label("I accept the terms and conditions").check()
    page.get_by_role("button", name="Configure").click()
    expect(page.locator(".job-succeeded")).to_have_count(2, timeout=30_000)
    expect(page.get_by_role("table", name="Application users")).to_contain_text(
        "Dual-write app user"
    )
    # The data store path is the test's temporary folder and the API URLs name the test's port:
    # masked, they are not the product's.
    page.screenshot(
        path=str(SCREENSHOTS / "environment-details.png"),
        full_page=True,
        mask=[page.locator("dd.data-store"), page.locator("dd.api-url")],
    )

    # Finance and operations: Data management > Dual Write > New link to environment.
    page.get_by_role("link", name="Finance and operations").click()
    page.get_by_role("link", name=f"Dual Write {ENV}").click()
    page.get_by_role("link", name="New link to environment").click()
    page.get_by_label("Field Service").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("USMF — Contoso Entertainment System USA").check()
    page.get_by_role("button", name="Next").click()
    health = page.get_by_role("table", name="Health check")
    expect(health).to_contain_text("Application IDs granted access to connect the apps")
    expect(health.get_by_text("✓ Passed")).to_have_count(8)
    page.screenshot(path=str(SCREENSHOTS / "wizard-health-check.png"), full_page=True)
    page.get_by_label("I consent").check()
    page.get_by_role("button", name="Create").click()

    # The Dual-write page: no maps yet, Apply Solution, run with initial sync.
    expect(page.get_by_role("status")).to_contain_text(
        "Apply the Dual-write application orchestration solution"
    )
    page.get_by_role("button", name="Apply Solution").click()
    maps = page.get_by_role("table", name="Table maps")
    expect(maps).to_contain_text(ACCOUNTS)
    page.get_by_label(f"Select {ACCOUNTS}").check()
    page.get_by_label("Initial sync (dependent maps run first)").check()
    page.get_by_role("button", name="Run", exact=True).click()
    state = page.locator(f'td.state[data-map="{ACCOUNTS}"]')
    for _ in range(60):  # bounded: the worker takes well under a second for 20 customers
        if state.inner_text() == "Running":
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(state).to_have_text("Running")
    page.screenshot(path=str(SCREENSHOTS / "dualwrite-page.png"), full_page=True)

    # Edit a customer in F&O and watch the Dataverse account change.
    page.goto(f"{live_server.url}/records/fo/{ENV}/customers?q=US-000001")
    page.get_by_role("link", name="USMF").first.click()
    page.get_by_label("organizationname").fill("Journey Renamed Ltd")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.goto(f"{live_server.url}/records/dataverse/Field Service/accounts?q=US-000001&refresh=2")
    expect(page.get_by_role("table")).to_contain_text("Journey Renamed Ltd", timeout=20_000)
