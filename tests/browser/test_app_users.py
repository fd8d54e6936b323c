"""Fixing a disabled application user from where DW9003 is reported: the link wizard's health
check fails with DW9003 → its fix link → Fix application users (a tenant admin) → the health
check passes. Anyone else is told why they cannot, also from the environment details page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from browser_support import DW, LiveServer, sign_in
from dualwrite.identity import directory
from dualwrite.lifecycle import appusers, dualwrite_app, environments, ppi, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.platform import environments as platform

ENV = "contoso-two"
CHECK = "Application IDs granted access to connect the apps"


def _disabled_app_user(server: LiveServer) -> None:
    """contoso-two integrated with Field Service and the dual-write application installed, then
    its Dataverse application user disabled; not linked yet. dw is Dual-write user there."""
    with server.store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        project = projects.get_project(session, admin, "ERP")
        spec = EnvironmentSpec(name=ENV, legal_entities=["USMF"])
        env = environments.deploy_environment(session, server.settings, admin, project, spec)
        target = platform.create_environment(
            session,
            server.settings,
            admin,
            name="Field Service",
            region="West US",
            dataverse=True,
            dataverse_url=None,
        )
        ppi.integrate(session, env, target)
        dualwrite_app.install(session, env, target)
        appusers.update_application_user(session, admin, env, target, "dataverse", enabled=False)
        environments.grant_environment_role(session, admin, env, DW, "dualwrite-user")


def _enabled(page: Any) -> Any:
    """The Enabled cell of the Dataverse application user on the fix page."""
    users = page.get_by_role("table", name=f"Application users of {ENV} and Field Service")
    return users.get_by_role("row", name="Dataverse").get_by_role("cell").nth(3)


def _health_check(page: Any, server: LiveServer) -> Any:
    page.goto(f"{server.url}/environments/{ENV}/dualwrite")
    page.get_by_role("link", name="New link to environment").click()
    page.get_by_label("Field Service").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("USMF —").check()
    page.get_by_role("button", name="Next").click()
    return page.locator("tr", has_text=CHECK)


def test_others_are_told_why_they_cannot_fix_an_application_user(
    page: Any, linked: LiveServer
) -> None:
    _disabled_app_user(linked)
    sign_in(page, linked, DW)
    page.goto(f"{linked.url}/environments/{ENV}")
    warning = page.locator("#app-users-problem")
    expect(warning).to_contain_text("DW9003")
    expect(warning).to_contain_text("Failed to connect to CRM.")
    warning.get_by_role("link", name="Fix application users").click()
    expect(page.get_by_role("heading", name="Dual-write application users")).to_be_visible()
    expect(page.locator("#cannot-fix")).to_contain_text(
        "Fixing the dual-write application users requires the Global administrator role"
    )
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Fix application users").click()
    assert posted.value.status == 403
    expect(page.locator("div.error")).to_contain_text("DW3004")
    expect(_enabled(page)).to_have_text("no")  # still disabled


def test_health_check_dw9003_fix_link_then_the_health_check_passes(
    page: Any, linked: LiveServer
) -> None:
    _disabled_app_user(linked)
    sign_in(page, linked)
    failed = _health_check(page, linked)
    expect(failed).to_have_class("fail")
    expect(failed).to_contain_text("DW9003")
    expect(page.get_by_role("button", name="Create")).to_have_count(0)
    failed.get_by_role("link", name=f"Fix: {CHECK}").click()

    expect(_enabled(page)).to_have_text("no")
    expect(page.locator("#cannot-fix")).to_have_count(0)  # a tenant admin may
    page.get_by_role("button", name="Fix application users").click()
    expect(_enabled(page)).to_have_text("yes")
    expect(page.locator("tr", has_text=CHECK)).to_contain_text("Passed")

    page.get_by_role("button", name="Back to the health check").click()
    expect(page.locator("tr.fail")).to_have_count(0)
    expect(page.locator("tr", has_text=CHECK)).to_contain_text("Passed")
    expect(page.get_by_role("button", name="Create")).to_be_visible()
    page.goto(f"{linked.url}/environments/{ENV}")  # the environment page has nothing to report
    expect(page.locator("#app-users-problem")).to_have_count(0)
