"""Adding a table map from a solution file on the Dual-write page (seed 002's 401 path): a
tenant (Global) administrator adds it; anyone else gets the seed's 401 on the page; a file with
problems shows the validator's problems on the page and nothing is added."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from browser_support import DW, ENV, LiveServer, sign_in

NEW_MAP = "Contact persons (contacts)"
SOLUTION = (Path(__file__).parent / "contact_persons.toml").read_text(encoding="utf-8")
# Two misspelt columns: the validator names both (and the NOT NULL column nothing writes).
BAD = SOLUTION.replace('fo = "lastname"', 'fo = "lastnam"').replace(
    'dataverse = "jobtitle"', 'dataverse = "jobtitel"'
)


def _upload(page: Any, name: str, text: str) -> int:
    page.get_by_label("Solution file (TOML) with new table maps").set_input_files(
        {"name": name, "mimeType": "application/toml", "buffer": text.encode()}
    )
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Add table maps").click()
    return int(posted.value.status)


def _maps(page: Any) -> Any:
    return page.get_by_role("table", name="Table maps")


def test_a_dualwrite_user_gets_seed_002s_401_on_the_page(page: Any, linked: LiveServer) -> None:
    sign_in(page, linked, DW)
    page.goto(f"{linked.url}/environments/{ENV}/dualwrite")
    assert _upload(page, "contacts.toml", SOLUTION) == 401
    alert = page.locator("div.error")
    expect(alert).to_contain_text("DW9401")
    expect(alert).to_contain_text(
        "Response status code does not indicate success: 401 (Unauthorized)."
    )
    expect(alert).to_contain_text("Only a tenant (Global) administrator can add a new table map")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(_maps(page)).not_to_contain_text(NEW_MAP)
    page.reload()
    expect(_maps(page)).not_to_contain_text(NEW_MAP)  # nothing was added


def test_a_tenant_admin_adds_a_map_and_a_bad_file_shows_its_problems(
    page: Any, linked: LiveServer
) -> None:
    sign_in(page, linked)
    page.goto(f"{linked.url}/environments/{ENV}/dualwrite")
    assert _upload(page, "contacts.toml", BAD) == 422
    alert = page.locator("div.error")
    expect(alert).to_contain_text("DW5003")
    expect(alert).to_contain_text("contacts.toml has 3 problem(s)")
    expect(alert).to_contain_text(
        "contacts.toml > Contact persons (contacts) > field 'lastnam': unknown column 'lastnam' "
        "in F&O table 'contactpersons'"
    )
    expect(alert).to_contain_text("unknown column 'jobtitel' in Dataverse table 'contact'")
    expect(alert).to_contain_text("nothing was loaded")
    expect(_maps(page)).not_to_contain_text(NEW_MAP)

    assert _upload(page, "contacts.toml", SOLUTION) == 303
    expect(page.locator("div.error")).to_have_count(0)
    expect(page.locator(f'td.state[data-map="{NEW_MAP}"]')).to_have_text("Not running")
    solutions = page.get_by_text("Solutions", exact=True).locator("xpath=following-sibling::dd[1]")
    expect(solutions).to_contain_text("Contoso contact persons 1.0.0")
    expect(page.get_by_role("table", name="Recent activity")).to_contain_text(
        f"Applied solution Contoso contact persons 1.0.0: published {NEW_MAP}"
    )
