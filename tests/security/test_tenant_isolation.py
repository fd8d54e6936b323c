"""Tenant isolation over every route (issue "Security first"): a plain user and a Global
administrator of one tenant can neither read, write nor learn the names of anything of another
tenant, through any API route or web page.

Every route is called by both of them twice: once naming the other tenant's things (its
environment, project, Dataverse, users, jobs, errors, records), once naming things that exist
nowhere. The two answers must be the same — otherwise the answer tells that the other tenant's
thing exists —, the other tenant's data must be exactly as before, and no answer may contain a
name of the other tenant that the request did not contain. Routes are read from the app, so a
new route is covered as soon as it exists (and fails here until its parameters are described).
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from dualwrite.api.app import API_PREFIX, create_app
from dualwrite.control.models import (
    ActivityEntry,
    AlertRule,
    ApplicationUser,
    DataStoreClaim,
    DualWriteLink,
    EnvironmentAppUser,
    FoEnvironment,
    Job,
    JobKind,
    PlatformEnvironment,
    Project,
    RegisteredApplication,
    TableMapState,
    Tenant,
    User,
)
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity import directory
from dualwrite.jobs.model import finish, submit
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import PASSWORD, add_user, bootstrap, linked_world, settings_for, worker_ticks

VICTIM_DOMAIN = "victimcorp.onmicrosoft.com"
ATTACKER_DOMAIN = "fabrikam.onmicrosoft.com"
MAP = "Customers V3 (accounts)"  # a name every tenant's default solution has: not a secret
JOB_ID, ERROR_ID, RECORD_ID = 4711, 4712, 4713


@dataclass(frozen=True)
class Names:
    """What a request names: the victim's real things, or things that exist nowhere."""

    tenant: str
    project: str
    env: str
    platform: str
    platform_id: str
    upn: str
    job: int
    error: int
    fo_record: int
    dv_record: str
    app: str  # a registered application's client ID (the dual-write application's)

    def secrets(self) -> list[str]:
        return [
            self.tenant,
            self.project,
            self.env,
            self.platform,
            self.platform_id,
            self.upn,
            self.app,
        ]

    def tokens(self) -> list[str]:
        return [*self.secrets(), str(self.job), str(self.error), str(self.fo_record)]


# --- what each route is called with ----------------------------------------------------------

# Signing keys are the installation's, no tenant's: any kid will do.
_PUBLIC = {
    "{role}": "global-admin",
    "{sku}": "D365_FINANCE",
    "{dataverse_field}": "name",
    "{kid}": "no-such-key",
}


def _paths(template: str, n: Names) -> list[str]:
    """The route's path with its parameters filled in (records pages on both sides)."""
    if "{owner}" in template:
        sides = [
            ("fo", n.env, "customers", n.fo_record),
            ("dataverse", n.platform, "accounts", n.dv_record),
        ]
        filled = []
        for side, owner, kind, record in sides:
            path = template.replace("{side}", side).replace("{owner}", owner)
            filled.append(path.replace("{kind}", kind).replace("{record_id}", str(record)))
        return filled
    path = template
    if template.startswith(f"{API_PREFIX}/projects/"):
        path = path.replace("{name}", n.project)
    elif template == f"{API_PREFIX}/environments/{{name}}":
        path = path.replace("{name}", n.env)
    if "/platform/environments/{env}" in template or template == "/platform/{name}":
        path = path.replace("{env}", n.platform).replace("{name}", n.platform)
    values = {
        "{env}": n.env,
        "{name}": MAP,
        "{domain}": n.tenant,
        "{upn}": n.upn,
        "{job_id}": str(n.job),
        "{error_id}": str(n.error),
        "{side}": "fo",
        "{client_id}": n.app,
        **_PUBLIC,
    }
    for key, value in values.items():
        path = path.replace(key, value)
    assert "{" not in path, f"describe the parameters of {template} in this test"
    return [path]


# JSON bodies of API writes, naming the victim's things wherever a body can name one.
API_BODIES: dict[tuple[str, str], Callable[[Names], dict[str, Any]]] = {
    # A wrong password: sign-in must not tell whether the other tenant's user exists.
    ("POST", "/auth/token"): lambda n: {"upn": n.upn, "password": "not the password"},
    ("POST", "/auth/login"): lambda n: {"upn": n.upn, "password": "not the password"},
    ("POST", "/tenants"): lambda n: {
        "domain": n.tenant,
        "display_name": "T",
        "admin_upn": n.upn,
        "admin_name": "A",
        "admin_password": PASSWORD,
    },
    ("PATCH", "/tenants/{domain}/settings"): lambda n: {"database_capacity_gb": 99},
    ("POST", "/users"): lambda n: {"upn": n.upn, "display_name": "U", "password": PASSWORD},
    ("POST", "/users/{upn}/roles"): lambda n: {"role": "global-admin"},
    ("POST", "/users/{upn}/licenses"): lambda n: {"sku": "D365_FINANCE"},
    ("POST", "/projects"): lambda n: {"name": n.project},
    ("POST", "/projects/{name}/members"): lambda n: {"upn": n.upn, "role": "project-owner"},
    ("POST", "/environments"): lambda n: {"name": n.env, "project": n.project},
    ("POST", "/environments/{env}/power-platform/validate"): lambda n: {
        "use_existing": True,
        "platform_environment": n.platform,
    },
    ("POST", "/environments/{env}/power-platform/setup"): lambda n: {
        "use_existing": True,
        "platform_environment": n.platform,
        "confirm_name": "Tenant Admin",
    },
    ("POST", "/environments/{env}/dualwrite-application"): lambda n: {
        "accept_terms": True,
        "platform_environment": n.platform,
    },
    ("PATCH", "/environments/{env}/application-users/{side}"): lambda n: {"enabled": False},
    ("POST", "/environments/{env}/application-users/fix"): lambda n: {
        "dataverse_environment": n.platform
    },
    ("PUT", "/environments/{env}/users"): lambda n: {"upn": n.upn, "role": "dual-write-user"},
    ("POST", "/platform/environments"): lambda n: {"name": n.platform, "dataverse": False},
    ("POST", "/platform/environments/{env}/admins"): lambda n: {"upn": n.upn},
    ("POST", "/environments/{env}/link/health-check"): lambda n: {
        "dataverse_environment": n.platform,
        "legal_entities": ["USMF"],
    },
    ("POST", "/environments/{env}/link"): lambda n: {
        "dataverse_environment": n.platform,
        "legal_entities": ["USMF"],
        "consent": True,
    },
    ("POST", "/environments/{env}/maps"): lambda n: {"source": "x.toml", "definition": ""},
    ("POST", "/environments/{env}/maps/actions"): lambda n: {"action": "stop", "maps": [MAP]},
    ("POST", "/environments/{env}/maps/force-stop"): lambda n: {"maps": [MAP], "reason": "x"},
    ("PATCH", "/environments/{env}/maps/{name}/fields"): lambda n: {
        "dataverse_field": "name",
        "direction": "fo_to_dv",
    },
    ("PUT", "/environments/{env}/maps/{name}/fields/{dataverse_field}/transform"): lambda n: {
        "default": "x"
    },
    ("PUT", "/environments/{env}/maps/{name}/alert"): lambda n: {
        "max_errors": 1,
        "window_minutes": 1,
        "action": "stop",
    },
    ("PUT", "/environments/{env}/maps/{name}/limits"): lambda n: {"max_age_seconds": 60},
    ("PUT", "/environments/{env}/maps/{name}/mode"): lambda n: {"synchronous": False},
    ("POST", "/environments/{env}/errors/{error_id}/discard"): lambda n: {
        "map": MAP,
        "reason": "x",
    },
    ("POST", "/apps"): lambda n: {"display_name": "Integration"},
    ("PATCH", "/apps/{client_id}"): lambda n: {"enabled": False},
    ("POST", "/apps/{client_id}/secrets"): lambda n: {"secret_days": 30},
    ("PUT", "/environments/{env}/app-users/{client_id}"): lambda n: {
        "security_role": "System administrator"
    },
    ("PUT", "/platform/environments/{env}/app-users/{client_id}"): lambda n: {
        "security_role": "System Administrator"
    },
}
# More bodies for a route, each called like the first.
MORE_BODIES: dict[tuple[str, str], list[Callable[[Names], dict[str, Any]]]] = {
    # In its own project: is the other tenant's environment name taken?
    ("POST", "/environments"): [lambda n: {"name": n.env, "project": "Fabrikam ERP"}],
}
API_QUERIES: dict[tuple[str, str], Callable[[Names], dict[str, Any]]] = {
    ("GET", "/environments"): lambda n: {"project": n.project},
    ("POST", "/environments/{env}/errors/retry"): lambda n: {"map": MAP, "id": n.error},
    ("GET", "/environments/{env}/errors"): lambda n: {"map": MAP},
}
# Form fields of page posts.
FORMS: dict[tuple[str, str], Callable[[Names], dict[str, Any]]] = {
    ("POST", "/login"): lambda n: {"upn": n.upn, "password": "not the password"},
    ("POST", "/environments/{env}/ppi/validate"): lambda n: {
        "use_existing": "yes",
        "platform_environment": n.platform,
    },
    ("POST", "/environments/{env}/ppi/setup"): lambda n: {
        "use_existing": "yes",
        "platform_environment": n.platform,
        "confirm_name": "Tenant Admin",
    },
    ("POST", "/environments/{env}/dualwrite-app"): lambda n: {"accept_terms": "yes"},
    ("POST", "/environments/{env}/application-users/fix"): lambda n: {"dataverse": n.platform},
    ("POST", "/environments/{env}/dualwrite/solutions"): lambda n: {},
    ("POST", "/environments/{env}/users"): lambda n: {"upn": n.upn, "role": "dual-write-user"},
    ("POST", "/platform/settings"): lambda n: {"capacity_gb": "99"},
    ("POST", "/platform/roles"): lambda n: {"upn": n.upn, "role": "global-admin"},
    ("POST", "/platform/apps"): lambda n: {"display_name": "Integration"},
    ("POST", "/environments/{env}/dualwrite/maps"): lambda n: {"action": "stop", "maps": MAP},
    ("POST", "/environments/{env}/dualwrite/maps/{name}/fields"): lambda n: {
        "dataverse_field": "name",
        "direction": "fo_to_dv",
    },
    ("POST", "/environments/{env}/dualwrite/maps/{name}/transform"): lambda n: {
        "dataverse_field": "name",
        "default": "x",
        "action": "save",
    },
    ("POST", "/environments/{env}/dualwrite/maps/{name}/discard"): lambda n: {
        "error_id": str(n.error),
        "reason": "x",
    },
    ("POST", "/environments/{env}/dualwrite/maps/{name}/alert"): lambda n: {
        "max_errors": "1",
        "window_minutes": "1",
        "action": "stop",
    },
    ("POST", "/environments/{env}/dualwrite/maps/{name}/force-stop"): lambda n: {"reason": "x"},
    ("POST", "/environments/{env}/dualwrite/maps/{name}/retry"): lambda n: {
        "error_id": str(n.error)
    },
    ("POST", "/environments/{env}/dualwrite/wizard/check"): lambda n: {
        "dataverse": n.platform,
        "legal_entities_": "USMF",
    },
    ("POST", "/environments/{env}/dualwrite/wizard/create"): lambda n: {
        "dataverse": n.platform,
        "legal_entities_": "USMF",
        "consent": "yes",
    },
    ("POST", "/records/{side}/{owner}/{kind}"): lambda n: {"organizationname": "x", "name": "x"},
    ("POST", "/records/{side}/{owner}/{kind}/{record_id}"): lambda n: {
        "organizationname": "x",
        "name": "x",
    },
}
PAGE_QUERIES: dict[tuple[str, str], Callable[[Names], dict[str, Any]]] = {
    ("GET", "/environments/{env}/dualwrite/wizard"): lambda n: {"dataverse": n.platform},
}
# Routes that name nothing of a tenant (sign-in, docs) need no body description.
NAMELESS = {("POST", "/api/v1/auth/logout"), ("POST", "/logout"), ("POST", "/service/restart")}


def _app_routes() -> list[tuple[str, str, str, str, Any]]:
    """(kind, method, template, path, route) of every API route and page of the app: kinds by
    the module that serves them (environment APIs and the token service speak other protocols
    and are tested where they are built). Templates of API routes are relative to /api/v1."""
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="dualwrite-routes-")))
    found = []
    for context in iter_route_contexts(create_app(settings).routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        module, path = route.endpoint.__module__, context.path
        if path.startswith(f"{API_PREFIX}/"):
            kind = "api"
        elif module.startswith("dualwrite.web"):
            kind = "page"
        else:  # the token service's and environment APIs' own protocols
            continue
        template = path.removeprefix(API_PREFIX) if kind == "api" else path
        for method in sorted((context.methods or set()) - {"HEAD"}):
            found.append((kind, method, template, path, route))
    return found


ROUTES = _app_routes()


# --- the world: contoso (the victim, with everything) and fabrikam (the attackers) ----------


@dataclass
class World:
    folder: Path  # every database of the world (control store, data stores)
    snapshot: Path  # the folder as built, put back after a write that succeeded
    settings: Settings
    stores: dict[str, str]  # the victim's data stores: customersv3 / account table -> URL
    victim: Names
    bogus: Names
    tokens: dict[str, str] = field(default_factory=dict)  # attacker upn -> bearer token
    cookies: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (cookie, csrf)


def _build(tmp: Path) -> World:
    settings = settings_for(tmp / "world")
    store = ControlStore(settings.control_url)
    store.upgrade()
    fo_url = f"sqlite:///{tmp / 'world' / 'victim-fo.db'}"
    dv_url = f"sqlite:///{tmp / 'world' / 'victim-dv.db'}"
    with store.session() as session:
        link = linked_world(
            session,
            settings,
            fo_url,
            dv_url,
            domain=VICTIM_DOMAIN,
            project_name="Victim Rollout",
            env_name="victim-env",
            platform_name="Victim Dataverse",
        )
        admin = directory.get_user(session, f"admin@{VICTIM_DOMAIN}")
        add_user(session, admin, "vera", licenses=("D365_FINANCE",))
        job = submit(session, JobKind.LINK, link.fo_environment, admin, {})
        platform_id = link.platform_environment_id
        # IDs nothing else in a page could be mistaken for (a "1" is everywhere).
        session.execute(
            text("UPDATE jobs SET id = :new WHERE id = :old"), {"new": JOB_ID, "old": job.id}
        )
    finish(store, JOB_ID)
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)
    with store.session() as session:
        admin = directory.get_user(session, f"admin@{VICTIM_DOMAIN}")
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.run_maps(session, admin, link, [MAP], initial_sync=True)
    worker_ticks(store)
    dv = make_engine(dv_url)
    with dv.begin() as conn:  # a name too long for F&O: one record in the error log
        conn.execute(
            text("UPDATE account SET name = :n WHERE accountnumber = 'US-000003'"), {"n": "z" * 125}
        )
        dv_record = str(conn.execute(text("SELECT accountid FROM account LIMIT 1")).scalar_one())
    dv.dispose()
    worker_ticks(store, 3)
    fo = make_engine(fo_url)
    with fo.begin() as conn:
        conn.execute(text("UPDATE dw_sync_errors SET id = :id"), {"id": ERROR_ID})
        low = conn.execute(text("SELECT min(recid) FROM customersv3")).scalar_one()
        conn.execute(
            text("UPDATE customersv3 SET recid = :id WHERE recid = :low"),
            {"id": RECORD_ID, "low": low},
        )
    fo.dispose()
    with store.session() as session:  # fabrikam: a Global administrator and a plain user
        fabrikam = bootstrap(session, ATTACKER_DOMAIN)
        fred = add_user(session, fabrikam, "fred", licenses=("D365_FINANCE",))
        own = projects.create_project(session, fabrikam, "Fabrikam ERP")
        projects.add_member(session, fabrikam, own, fred.upn, "environment-manager")
        environments.deploy_environment(
            session, settings, fabrikam, own, EnvironmentSpec(name="fabrikam-env")
        )
    with store.session() as session:
        app = session.scalars(select(ApplicationUser.application_id)).first() or ""
    victim = Names(
        tenant=VICTIM_DOMAIN,
        project="Victim Rollout",
        env="victim-env",
        platform="Victim Dataverse",
        platform_id=platform_id,
        upn=f"vera@{VICTIM_DOMAIN}",
        job=JOB_ID,
        error=ERROR_ID,
        fo_record=RECORD_ID,
        dv_record=dv_record,
        app=app,
    )
    bogus = Names(
        tenant="nowhere.onmicrosoft.com",
        project="Nowhere Rollout",
        env="nowhere-env",
        platform="Nowhere Dataverse",
        platform_id=str(uuid.uuid4()),
        upn=f"nobody@{VICTIM_DOMAIN}",
        job=987654,
        error=987653,
        fo_record=987652,
        dv_record=str(uuid.uuid4()),
        app=str(uuid.uuid4()),
    )
    stores = {"customersv3": fo_url, "account": dv_url}
    world = World(tmp / "world", tmp / "snapshot", settings, stores, victim, bogus)
    with TestClient(create_app(settings, store)) as client:
        for alias in ("admin", "fred"):
            upn = f"{alias}@{ATTACKER_DOMAIN}"
            body = {"upn": upn, "password": PASSWORD}
            world.tokens[upn] = client.post(f"{API_PREFIX}/auth/token", json=body).json()[
                "access_token"
            ]
            signed = client.post(f"{API_PREFIX}/auth/login", json=body)
            world.cookies[upn] = (signed.cookies["dw_session"], signed.json()["csrf_token"])
    store.dispose()
    shutil.copytree(world.folder, world.snapshot)
    return world


def _restore(world: World) -> None:
    """Put every database back as it was built (no connection may be open)."""
    shutil.rmtree(world.folder)
    shutil.copytree(world.snapshot, world.folder)


def _victim_state(store: ControlStore, world: World) -> dict[str, Any]:
    """Everything of the victim tenant a write could change."""
    names = world.victim
    with store.reading() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.domain == names.tenant)).one()
        users = session.scalars(select(User).where(User.tenant_id == tenant.id)).all()
        envs = session.scalars(
            select(FoEnvironment).where(FoEnvironment.tenant_id == tenant.id)
        ).all()
        env_ids = [e.id for e in envs]

        def count(model: Any, *where: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

        state = {
            "tenant": (
                tenant.display_name,
                tenant.database_capacity_gb,
                tenant.everyone_can_create_environments,
            ),
            "users": sorted(
                (
                    u.upn,
                    u.is_active,
                    u.is_operator,
                    tuple(u.role_names),
                    tuple(sorted(a.sku for a in u.licenses)),
                )
                for u in users
            ),
            "projects": sorted(
                (p.name, tuple(sorted((m.user_id, m.role.value) for m in p.members)))
                for p in session.scalars(select(Project).where(Project.tenant_id == tenant.id))
            ),
            "environments": sorted(
                (
                    e.name,
                    e.state.value,
                    e.data_store_url,
                    tuple(sorted((u.user_id, u.role.value) for u in e.users)),
                )
                for e in envs
            ),
            "platform": sorted(
                (
                    p.name,
                    p.dataverse_url,
                    p.fo_environment_id,
                    tuple(sorted(a.user_id for a in p.admins)),
                )
                for p in session.scalars(
                    select(PlatformEnvironment).where(PlatformEnvironment.tenant_id == tenant.id)
                )
            ),
            "maps": sorted(
                (m.name, m.state, m.field_directions, m.field_transforms, m.queue_max_age_seconds)
                for m in session.scalars(select(TableMapState))
                if m.link_id
                in {
                    link.id
                    for link in session.scalars(
                        select(DualWriteLink).where(DualWriteLink.fo_environment_id.in_(env_ids))
                    )
                }
            ),
            "links": count(DualWriteLink, DualWriteLink.fo_environment_id.in_(env_ids)),
            "activity": count(ActivityEntry, ActivityEntry.fo_environment_id.in_(env_ids)),
            "alerts": count(AlertRule),
            "jobs": count(Job, Job.fo_environment_id.in_(env_ids)),
            "app_users": sorted(
                (a.side, a.enabled, a.security_role)
                for a in session.scalars(
                    select(ApplicationUser).where(ApplicationUser.fo_environment_id.in_(env_ids))
                )
            ),
            "claims": count(DataStoreClaim, DataStoreClaim.tenant_id == tenant.id),
            "apps": sorted(
                (a.client_id, a.display_name, a.enabled, len(a.secrets))
                for a in session.scalars(
                    select(RegisteredApplication).where(
                        RegisteredApplication.tenant_id == tenant.id
                    )
                )
            ),
            "env_app_users": sorted(
                (u.registered_app_id, u.security_role, u.enabled)
                for u in session.scalars(select(EnvironmentAppUser))
            ),
        }
    for table, url in world.stores.items():
        engine = make_engine(url)
        with engine.connect() as conn:
            state[table] = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            state[f"{table} errors"] = conn.execute(
                text("SELECT id, status FROM dw_sync_errors ORDER BY id")
            ).all()
        engine.dispose()
    return state


# --- the calls -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def _normalised(body: str, n: Names, asked: str) -> str:
    """The answer with the names the request used (and IDs made per request) blotted out."""
    for token in sorted((t for t in n.tokens() if t in asked), key=len, reverse=True):
        pattern = rf"(?<![\w.]){re.escape(token)}(?![\w.])" if token.isdigit() else re.escape(token)
        body = re.sub(pattern, "<NAMED>", body)
    body = body.replace(n.dv_record, "<NAMED>")
    body = re.sub(r'name="login_csrf" value="[^"]+"', 'name="login_csrf"', body)  # per page
    # A client secret made by the request (its value, first characters) differs every time.
    body = re.sub(r'("secret"|"hint"):"[^"]*"', r'\1:"<SECRET>"', body)
    body = re.sub(r'<code class="secret">[^<]*</code>', "<SECRET>", body)
    body = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?", "<TIME>", body)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<ID>", body)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _build(tmp_path_factory.mktemp("isolation"))


@pytest.fixture
def app_client(world: World) -> Iterator[tuple[TestClient, ControlStore]]:
    _restore(world)
    store = ControlStore(world.settings.control_url)
    with TestClient(create_app(world.settings, store), follow_redirects=False) as client:
        yield client, store
    store.dispose()


def _call(
    client: TestClient,
    world: World,
    attacker: str,
    kind: str,
    method: str,
    template: str,
    path: str,
    n: Names,
    body: Callable[[Names], dict[str, Any]] | None = None,
) -> Answer:
    """One request as `attacker`; `body` instead of the route's first described body."""
    key = (method, template)
    if kind == "api":
        headers = {"Authorization": f"Bearer {world.tokens[attacker]}"}
        body = body or API_BODIES.get(key)
        query = API_QUERIES.get(key)
        response = client.request(
            method,
            path,
            headers=headers,
            json=body(n) if body else None,
            params=query(n) if query else None,
        )
    else:
        cookie, csrf = world.cookies[attacker]
        client.cookies.set("dw_session", cookie)
        form = dict(FORMS[key](n)) if key in FORMS else None
        query = PAGE_QUERIES.get(key)
        if key == ("POST", "/login") and form is not None:  # the form's own token, as a browser
            page = client.get("/login").text
            form["login_csrf"] = re.findall(r'name="login_csrf" value="([^"]+)"', page)[0]
        response = client.request(
            method,
            path,
            headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin"},
            data=form,
            params=query(n) if query else None,
        )
        client.cookies.clear()
    return Answer(response.status_code, response.text)


CASES = [(kind, method, template, path) for kind, method, template, path, _r in ROUTES]
ATTACKERS = [f"admin@{ATTACKER_DOMAIN}", f"fred@{ATTACKER_DOMAIN}"]


def test_every_write_route_is_described() -> None:
    """A new route that takes a body must say here what it names, or it is not really tested."""
    missing = []
    for kind, method, template, path, route in ROUTES:
        if method == "GET" or (method, path) in NAMELESS:
            continue
        described = API_BODIES if kind == "api" else FORMS
        if route.dependant.body_params and (method, template) not in described:
            missing.append(f"{method} {path}")
    assert missing == []
    assert {kind for kind, *_rest in ROUTES} == {"api", "page"}


@pytest.mark.parametrize("attacker", ATTACKERS, ids=["tenant-admin", "plain-user"])
@pytest.mark.parametrize(
    ("kind", "method", "template", "path"), CASES, ids=[f"{m} {p}" for _k, m, _t, p in CASES]
)
def test_another_tenant_is_out_of_reach(
    world: World,
    app_client: tuple[TestClient, ControlStore],
    attacker: str,
    kind: str,
    method: str,
    template: str,
    path: str,
) -> None:
    client, store = app_client
    before = _victim_state(store, world)
    key = (method, template)
    bodies = [API_BODIES.get(key) if kind == "api" else None, *MORE_BODIES.get(key, [])]
    cases = zip(_paths(path, world.victim), _paths(path, world.bogus), strict=True)
    for (victim_path, bogus_path), body in itertools.product(list(cases), bodies):
        named = _call(
            client, world, attacker, kind, method, template, victim_path, world.victim, body
        )
        assert _victim_state(store, world) == before, (
            f"{method} {victim_path} changed the other tenant"
        )
        asked = victim_path + _request_text(kind, key, world.victim, body)
        leaked = [s for s in world.victim.secrets() if s in named.body and s not in asked]
        assert leaked == [], f"{method} {victim_path} answered with {leaked}"
        if method != "GET" and named.status < 400:
            _restore_live(store, world)
        nowhere = _call(
            client, world, attacker, kind, method, template, bogus_path, world.bogus, body
        )
        assert named.status < 500 and nowhere.status < 500, (named, nowhere)
        asked_bogus = bogus_path + _request_text(kind, key, world.bogus, body)
        assert (named.status, _normalised(named.body, world.victim, asked)) == (
            nowhere.status,
            _normalised(nowhere.body, world.bogus, asked_bogus),
        ), f"{method} {victim_path}: the answer tells that the other tenant's thing exists"
        if method != "GET" and nowhere.status < 400:
            _restore_live(store, world)


def _request_text(
    kind: str, key: tuple[str, str], n: Names, body: Callable[[Names], Any] | None
) -> str:
    """Everything a request says besides its path: a name it says may come back."""
    bodies, queries = (API_BODIES, API_QUERIES) if kind == "api" else (FORMS, PAGE_QUERIES)
    made = [body or bodies.get(key), queries.get(key)]
    return " ".join(str(make(n)) for make in made if make)


def _restore_live(store: ControlStore, world: World) -> None:
    store.dispose()  # the app's pool reconnects to the restored files
    _restore(world)


def test_lists_show_nothing_of_another_tenant(
    world: World, app_client: tuple[TestClient, ControlStore]
) -> None:
    """The routes without parameters (lists, the wizard, metrics; any query names nothing of
    the victim): nothing of the victim tenant."""
    client, _store = app_client
    for attacker in ATTACKERS:
        for kind, method, template, path in CASES:
            if method != "GET" or "{" in path:
                continue
            answer = _call(client, world, attacker, kind, method, template, path, world.bogus)
            leaked = [s for s in world.victim.secrets() if s in answer.body]
            assert leaked == [], f"{path} shows {attacker} {leaked}"
