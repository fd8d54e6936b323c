"""One browser test per page: its main action, and its permission rule (what a non-admin sees,
as seed 002 describes it)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import text

from browser_support import DW, ENV, LiveServer, sign_in
from dualwrite.databases import make_engine
from dualwrite.identity import directory
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import links, overview, tablemaps


def test_dualwrite_page_loads_from_one_origin_without_third_party_cookies(
    page: Any, linked: LiveServer
) -> None:
    """Seed 002, "login.microsoftonline.com refused to connect": the original signs in through
    another site in a frame, which breaks when third-party cookies are blocked. Here the sign-in
    and every request of the Data management → Dual Write path stay on one origin, with a
    first-party SameSite cookie, so blocking third-party cookies changes nothing."""
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    sign_in(page, linked)
    page.get_by_role("link", name="Finance and operations").click()
    page.get_by_role("link", name=f"Dual Write {ENV}").click()
    expect(page.get_by_role("table", name="Table maps")).to_be_visible()
    assert hosts == {urlsplit(linked.url).netloc}
    assert page.frames == [page.main_frame]  # no sign-in frame from anywhere else
    cookies = page.context.cookies()
    assert cookies and all(c["domain"] == "127.0.0.1" for c in cookies)
    assert all(c["sameSite"] in ("Lax", "Strict") and c["httpOnly"] for c in cookies)


def test_dualwrite_page_non_admin_monitors_and_runs_but_cannot_create_maps(
    page: Any, linked: LiveServer
) -> None:
    sign_in(page, linked, DW)
    page.get_by_role("link", name="Finance and operations").click()
    page.get_by_role("link", name=f"Dual Write {ENV}").click()
    page.get_by_label("Select Currencies (transactioncurrencies)").check()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(
        page.locator('td.state[data-map="Currencies (transactioncurrencies)"]')
    ).not_to_have_text("Not running")
    page.get_by_role("button", name="Apply Solution").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        "Response status code does not indicate success: 403 (tokenexchange)."
    )
    expect(alert).to_contain_text(re.compile(r"Session ID: [0-9a-f-]{36}"))
    expect(alert).to_contain_text(re.compile(r"Root activity ID: [0-9a-f-]{36}"))
    expect(alert).to_contain_text("tenant (Global) administrator")


def test_wizard_health_check_names_the_failed_check_and_its_fix(
    page: Any, linked: LiveServer
) -> None:
    with linked.store.session() as session:  # a second environment, not linked yet
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        project = projects.get_project(session, admin, "ERP")
        spec = EnvironmentSpec(name="contoso-two", legal_entities=["USMF"])
        environments.deploy_environment(session, linked.settings, admin, project, spec)
    sign_in(page, linked)
    page.goto(f"{linked.url}/environments/contoso-two/dualwrite")
    page.get_by_role("link", name="New link to environment").click()
    page.get_by_label("Sales").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("USMF —").check()
    page.get_by_role("button", name="Next").click()
    failed = page.locator("tr.fail")
    expect(
        failed.filter(has_text="Application IDs granted access to connect the apps")
    ).to_contain_text("DW9003")
    expect(failed.filter(has_text="Environments not linked yet")).to_contain_text(
        "already integrated"
    )
    expect(page.get_by_role("button", name="Create")).to_have_count(0)
    expect(page.get_by_role("button", name="Rerun health check")).to_be_visible()


def test_environment_page_setup_validations_for_a_non_manager(
    page: Any, linked: LiveServer
) -> None:
    with linked.store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        project = projects.get_project(session, admin, "ERP")
        spec = EnvironmentSpec(name="contoso-three", legal_entities=["USMF"])
        env = environments.deploy_environment(session, linked.settings, admin, project, spec)
        environments.grant_environment_role(session, admin, env, DW, "dualwrite-user")
    sign_in(page, linked, DW)
    page.goto(f"{linked.url}/environments/contoso-three")
    page.locator("summary", has_text="Setup").click()
    page.get_by_role("button", name="Validate").click()
    results = page.get_by_role("table", name="Validation results")
    expect(results.locator("tr.fail")).to_contain_text(
        ["Environment manager or Project owner in the project", "Qualifying license"]
    )
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)


def test_platform_admin_page_roles_only_for_global_admins(page: Any, linked: LiveServer) -> None:
    sign_in(page, linked, "pat@contoso.onmicrosoft.com")
    page.get_by_role("link", name="Power Platform admin").click()
    expect(page.get_by_role("table").first).to_contain_text("Sales")
    expect(page.get_by_role("heading", name="Users and directory roles")).to_have_count(0)
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, linked)
    page.get_by_role("link", name="Power Platform admin").click()
    page.get_by_label("User", exact=True).fill("pat@contoso.onmicrosoft.com")
    page.get_by_label("Role").select_option("Power Platform administrator")
    page.get_by_role("button", name="Grant role").click()
    expect(page.locator("#users")).to_contain_text("Power Platform administrator")


def test_record_pages_create_edit_delete(page: Any, linked: LiveServer) -> None:
    sign_in(page, linked)
    page.goto(f"{linked.url}/records/fo/{ENV}/customers")
    page.get_by_role("link", name="New").click()
    for field, value in {
        "dataareaid": "USMF",
        "customeraccount": "WEB-0001",
        "organizationname": "Keyboard Only Ltd",
        "customergroupid": "10",
        "salescurrencycode": "USD",
    }.items():
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard Only Ltd")
    page.get_by_label("organizationname").fill("x" * 101)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "organizationname: 101 characters; at most 100 fit"
    )
    page.get_by_role("link", name="Back").click()
    page.get_by_role("button", name="Delete").click()
    page.get_by_label("Search").fill("WEB-0001")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text("No records.")
    # Dataverse records are for the Dataverse's System Administrators.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, linked, DW)
    page.goto(f"{linked.url}/records/dataverse/Sales/accounts")
    expect(page.get_by_role("alert")).to_contain_text("DW4012")


def test_map_page_shows_fields_queue_activity_and_forces_not_running(
    page: Any, linked: LiveServer
) -> None:
    with linked.store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = links.get_link(session, environments.get_environment(session, admin, ENV))
        tablemaps.run_maps(session, admin, link, ["Customers V3 (accounts)"], initial_sync=True)
    sign_in(page, linked)
    page.goto(f"{linked.url}/environments/{ENV}/dualwrite")
    page.get_by_role("link", name="Customers V3 (accounts)").click()
    expect(page).to_have_title("Customers V3 (accounts) · dualwrite")  # waits for the page
    fields = page.get_by_role("table", name="Field mappings")
    expect(fields).to_contain_text("organizationname")
    expect(fields).to_contain_text("lookup through Customer groups (msdyn_customergroups)")
    expect(page.get_by_text("Nothing queued.")).to_be_visible()
    expect(page.get_by_text("No errors.")).to_be_visible()
    page.get_by_label("Force to Not running (when the other side is unavailable) — reason").fill(
        "maintenance"
    )
    page.get_by_role("button", name="Force Not running").click()
    expect(page.get_by_role("table", name="Activity log of this map")).to_contain_text(
        re.compile(r"Forced to Not running \(was \w+\): maintenance")
    )
    expect(
        page.get_by_text("Status", exact=True).locator("xpath=following-sibling::dd[1]")
    ).to_have_text("Not running")


def test_map_page_edits_a_transform_as_a_dualwrite_user(page: Any, linked: LiveServer) -> None:
    sign_in(page, linked, DW)
    page.goto(f"{linked.url}/environments/{ENV}/dualwrite/maps/Customers V3 (accounts)")
    fields = page.get_by_role("table", name="Field mappings")
    page.get_by_text("Edit transform of address1_country").click()
    page.get_by_label("Value map of address1_country").fill("USA = United States\nDEU = Germany")
    page.get_by_label("address1_country for other F&O values").fill("Elsewhere")
    page.get_by_label("addresscountryregionid for other Dataverse values").fill("USA")
    page.locator("#transform-address1_country").get_by_role("button", name="Save transform").click()
    row = fields.get_by_role("row").filter(has_text="addresscountryregionid")
    expect(row).to_contain_text(
        "value map USA ↔ United States, DEU ↔ Germany (otherwise Elsewhere / USA)"
    )
    expect(row).to_contain_text("edited on this link")
    expect(page.get_by_role("table", name="Activity log of this map")).to_contain_text(
        "transform none → value map USA ↔ United States"
    )

    # A constant that does not fit its column is named, and nothing is saved
    page.get_by_text("Edit transform of creditlimit").click()
    page.get_by_label("Default for creditlimit when the source value is missing").fill("plenty")
    page.locator("#transform-creditlimit").get_by_role("button", name="Save transform").click()
    expect(page.get_by_role("alert")).to_contain_text("creditlimit: default: 'plenty'")
    page.go_back()
    page.reload()
    expect(fields.get_by_role("row").filter(has_text="creditlimit").first).to_contain_text(
        "default 0"
    )

    page.get_by_text("Edit transform of address1_country").click()
    page.locator("#transform-address1_country").get_by_role(
        "button", name="Use the solution's"
    ).click()
    expect(row).not_to_contain_text("edited on this link")


def _until(check: Any, what: str) -> Any:
    """The live server's worker does the work: wait for it, bounded."""
    for _ in range(300):
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within 30 s")


def test_error_details_from_the_map_page_by_keyboard(page: Any, linked: LiveServer) -> None:
    accounts = "Customers V3 (accounts)"
    with linked.store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = links.get_link(session, environments.get_environment(session, admin, ENV))
        tablemaps.run_maps(session, admin, link, [accounts], initial_sync=True)
        dv_url = link.platform_environment.dataverse_url or ""

    def state() -> str:
        with linked.store.session() as session:
            admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
            link = links.get_link(session, environments.get_environment(session, admin, ENV))
            return next(m.state for m in link.table_maps if m.name == accounts)

    _until(lambda: state() == "Running", "accounts running")
    dv = make_engine(dv_url)
    with dv.begin() as conn:  # too long for F&O's organizationname (100 characters)
        conn.execute(
            text("UPDATE account SET name = :n WHERE accountnumber = 'US-000002'"), {"n": "q" * 130}
        )
    dv.dispose()

    def errors() -> list[Any]:
        with linked.store.session() as session:
            admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
            return overview.list_errors(
                links.get_link(session, environments.get_environment(session, admin, ENV)), accounts
            )

    (error,) = _until(errors, "an error of the accounts map")
    sign_in(page, linked, DW)  # a Dual-write user sees and operates the map's errors
    page.goto(f"{linked.url}/environments/{ENV}/dualwrite/maps/{accounts}")
    page.get_by_role("link", name=f"Details of error {error.id}").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Error {error.id}")).to_be_visible()
    assert page.title() == f"Error {error.id} · {accounts} · dualwrite"
    facts = page.get_by_label("Error", exact=True)
    expect(facts).to_contain_text("dv_to_fo")
    expect(facts).to_contain_text("value too long for customersv3.organizationname")
    fields = page.get_by_role(
        "table", name="Source value, what the map would write, and the target's value now"
    )
    name_row = fields.get_by_role("row").filter(has=page.get_by_role("rowheader", name="name"))
    expect(name_row).to_contain_text("organizationname")
    expect(name_row).to_contain_text("q" * 130)
    expect(name_row).to_contain_text("differs")
    expect(name_row).to_contain_text("too long: 130 characters, at most 100")
    page.get_by_text("Target record now").click()
    expect(page.locator("details[open] pre")).to_contain_text('"customeraccount": "US-000002"')

    page.get_by_label("Reason for discarding").fill("test record")
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("heading", name=accounts)).to_be_visible()
    expect(page.get_by_text("No errors.")).to_be_visible()

    # A plain user, who cannot see the environment, cannot open the details either.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, linked, "pat@contoso.onmicrosoft.com")
    page.goto(f"{linked.url}/environments/{ENV}/dualwrite/errors/{error.id}")
    expect(page.get_by_role("alert")).to_contain_text("DW")
    expect(page.get_by_role("heading", name=f"Error {error.id}")).to_have_count(0)
