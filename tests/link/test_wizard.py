"""Seed 000's link wizard and seed 002's permission errors: choose environment, health check
(each check failing with its fix, rerun after fixing), consent, Create, Apply Solution."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from backends import SERVER_URLS, require_backend
from dualwrite.checks import Check
from dualwrite.control.models import JobState
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.lifecycle import appusers, dualwrite_app, environments, ppi
from dualwrite.lifecycle.ppi import SetupRequest
from dualwrite.link import links, tablemaps, wizard
from dualwrite.schemas import LinkRead
from dualwrite.settings import Settings
from setup_world import FIELD, SetupWorld, setup_world

TOKEN_EXCHANGE = re.compile(
    r"^Response status code does not indicate success: 403 \(tokenexchange\)\.\n"
    r"Session ID: [0-9a-f-]{36}\nRoot activity ID: [0-9a-f-]{36}$"
)


@pytest.fixture
def w(store: ControlStore, settings: Settings) -> SetupWorld:
    """Integrated with Field Service, the dual-write application installed, not linked."""
    world = setup_world(store, settings)
    with store.session() as session:
        request = SetupRequest(use_existing=True, platform_environment=FIELD, confirm_name="Em")
        env, em = world.env(session), world.user(session, "em")
        setup = ppi.request_setup(session, settings, em, env, request).id
    assert world.run(setup).state is JobState.SUCCEEDED
    with store.session() as session:
        env, em = world.env(session), world.user(session, "em")
        install = dualwrite_app.request_install(session, em, env, accept_terms=True).id
    assert world.run(install).state is JobState.SUCCEEDED
    return world


def _check(
    w: SetupWorld, alias: str = "admin", companies: tuple[str, ...] = ("USMF",)
) -> dict[str, Check]:
    with w.store.session() as session:
        checks = wizard.health_check(
            session, w.user(session, alias), w.env(session), w.platform(session), companies
        )
    return {c.name: c for c in checks}


def _failed(w: SetupWorld, **kwargs: object) -> dict[str, str]:
    return {n: c.error.code for n, c in _check(w, **kwargs).items() if c.error}  # type: ignore[arg-type]


def test_choose_environment_lists_only_dataverses_the_user_administers(w: SetupWorld) -> None:
    with w.store.session() as session:
        names = {
            a: [e.name for e in wizard.wizard_environments(session, w.user(session, a))]
            for a in ("admin", "em", "joe")
        }
    assert names == {"admin": [FIELD, "Tokyo"], "em": [FIELD, "Tokyo"], "joe": []}


def test_health_check_passes_then_each_check_fails_with_its_fix(w: SetupWorld) -> None:
    assert _failed(w) == {}
    assert list(_check(w)) == [
        "Tenant administrator signed in",
        "Environment admin in Dataverse",
        "Dataverse reachable",
        "Finance and operations data store reachable",
        "Application IDs granted access to connect the apps",
        "Dual-write solutions installed in Dataverse",
        "Legal entities valid",
        "Environments not linked yet",
    ]
    user_rights = _check(w, alias="em")["Tenant administrator signed in"].error
    assert user_rights is not None and user_rights.code == "DW9403"
    assert TOKEN_EXCHANGE.match(user_rights.message), user_rights.message
    assert _failed(w, companies=("ZZZ",)) == {"Legal entities valid": "DW1000"}
    assert _failed(w, companies=()) == {"Legal entities valid": "DW1000"}

    with w.store.session() as session:  # the example of seed 000: access to connect the apps
        appusers.update_application_user(
            session,
            w.user(session, "admin"),
            w.env(session),
            w.platform(session),
            "dataverse",
            security_role="",
        )
    failed = _check(w)["Application IDs granted access to connect the apps"].error
    assert failed is not None and failed.code == "DW9003" and "CRM" in failed.message
    with w.store.session() as session:  # fixed: the rerun passes
        appusers.update_application_user(
            session,
            w.user(session, "admin"),
            w.env(session),
            w.platform(session),
            "dataverse",
            security_role="Dual-write app user",
        )
    assert _failed(w) == {}


def test_health_check_when_the_dataverse_cannot_be_reached(w: SetupWorld) -> None:
    require_backend("postgresql")
    missing = SERVER_URLS["postgresql"].rsplit("/", 1)[0] + "/dw_no_such_database"
    with w.store.session() as session:
        session.execute(
            text("UPDATE platform_environments SET dataverse_url = :u WHERE name = :n"),
            {"u": missing, "n": FIELD},
        )
    failed = _check(w)["Dataverse reachable"].error
    assert failed is not None and failed.code == "DW2002"
    assert "dw_no_such_database" in failed.message


def test_create_needs_consent_a_tenant_admin_and_a_passing_health_check(w: SetupWorld) -> None:
    def create(alias: str, consent: bool, companies: tuple[str, ...] = ("USMF",)) -> LinkRead:
        with w.store.session() as session:
            link = wizard.create_link(
                session,
                w.user(session, alias),
                w.env(session),
                w.platform(session),
                companies,
                consent=consent,
            )
            return LinkRead.of(link)

    with pytest.raises(DualWriteError) as denied:
        create("em", consent=True)
    assert denied.value.code == "DW9403" and denied.value.status == 403
    assert "Dual-write user role can monitor status and edit mappings" in denied.value.hint
    with pytest.raises(DualWriteError) as no_consent:
        create("admin", consent=False)
    assert no_consent.value.code == "DW4023"
    with pytest.raises(DualWriteError) as unhealthy:
        create("admin", consent=True, companies=("ZZZ",))
    assert unhealthy.value.code == "DW5010" and "Legal entities valid" in unhealthy.value.message
    link = create("admin", consent=True)
    assert (link.dataverse_environment, link.legal_entities) == (FIELD, ["USMF"])
    assert link.notice is not None and "Apply Solution" in link.notice  # a page without maps
    with w.store.session() as session:
        integrated = ppi.integrated_platform(w.env(session))
        assert integrated is not None and integrated.name == FIELD  # no mismatch: same Dataverse


def test_apply_solution_and_adding_maps_need_a_tenant_admin(w: SetupWorld) -> None:
    with w.store.session() as session:
        link = wizard.create_link(
            session,
            w.user(session, "admin"),
            w.env(session),
            w.platform(session),
            ["USMF"],
            consent=True,
        )
        with pytest.raises(DualWriteError) as forbidden:
            links.apply_default_solutions(session, w.user(session, "em"), link)
        assert forbidden.value.code == "DW9403"
        with pytest.raises(DualWriteError) as unauthorized:
            links.add_table_maps(session, w.user(session, "em"), link, [("ours.toml", "")])
        assert (unauthorized.value.status, unauthorized.value.message) == (
            401,
            "Response status code does not indicate success: 401 (Unauthorized).",
        )
        maps = links.apply_default_solutions(session, w.user(session, "admin"), link)
        assert len(maps) == 9 and LinkRead.of(link).notice is None


def test_apply_solution_needs_the_orchestration_solution_in_dataverse(w: SetupWorld) -> None:
    with w.store.session() as session:
        link = wizard.create_link(
            session,
            w.user(session, "admin"),
            w.env(session),
            w.platform(session),
            ["USMF"],
            consent=True,
        )
        session.execute(text("DELETE FROM installed_solutions WHERE kind = 'orchestration'"))
        with pytest.raises(DualWriteError) as err:
            links.apply_default_solutions(session, w.user(session, "admin"), link)
    assert err.value.code == "DW4022"


def test_a_dualwrite_user_operates_maps_after_setup(w: SetupWorld) -> None:
    with w.store.session() as session:
        admin = w.user(session, "admin")
        link = wizard.create_link(
            session, admin, w.env(session), w.platform(session), ["USMF"], consent=True
        )
        links.apply_default_solutions(session, admin, link)
        joe = w.user(session, "joe")
        with pytest.raises(DualWriteError):
            environments.get_environment(session, joe, w.env(session).name)  # not visible yet
        environments.grant_environment_role(
            session, admin, w.env(session), joe.upn, "dualwrite-user"
        )
    with w.store.session() as session:
        joe = w.user(session, "joe")
        env = environments.get_environment(session, joe, "contoso-test")
        link = links.get_link(session, env)
        tablemaps.run_maps(session, joe, link, ["Currencies (transactioncurrencies)"])
        with pytest.raises(DualWriteError) as err:
            links.apply_default_solutions(session, joe, link)
        assert err.value.code == "DW9403"


def test_adding_maps_from_an_uploaded_file(w: SetupWorld) -> None:
    """The Dual-write page's upload: who may add is told before anything about the file."""
    with w.store.session() as session:
        admin = w.user(session, "admin")
        link = wizard.create_link(
            session, admin, w.env(session), w.platform(session), ["USMF"], consent=True
        )
        with pytest.raises(DualWriteError) as unauthorized:
            links.add_table_maps_from_file(session, w.user(session, "em"), link, "x.toml", b"\xff")
        assert (unauthorized.value.code, unauthorized.value.status) == ("DW9401", 401)
        for data, problem in [
            (b"", "choose a TOML file"),
            (b"\xff\xfe", "x.toml is not UTF-8 text"),
            (b"#" * (links.MAX_SOLUTION_BYTES + 1), "x.toml is larger than 1 MB"),
        ]:
            with pytest.raises(DualWriteError) as refused:
                links.add_table_maps_from_file(session, admin, link, "C:\\files\\x.toml", data)
            assert (refused.value.code, refused.value.details["problem"]) == ("DW1000", problem)
        links.apply_default_solutions(session, admin, link)
        text = (Path(__file__).parents[1] / "browser" / "contact_persons.toml").read_bytes()
        added = links.add_table_maps_from_file(session, admin, link, "home/em/contacts.toml", text)
        assert "Contact persons (contacts)" in {m.name for m in added}
        assert link.solutions[-1].source == "contacts.toml"  # the name only, never a path
