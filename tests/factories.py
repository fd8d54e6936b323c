"""Test worlds built through the services themselves (no fixtures that bypass the rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backends import store_servers
from dualwrite.control.models import DualWriteLink, User
from dualwrite.control.store import ControlStore
from dualwrite.engine.worker import Worker
from dualwrite.identity import directory
from dualwrite.installation import operators
from dualwrite.lifecycle import dualwrite_app, environments, ppi, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import links, wizard
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings

PASSWORD = "correct horse battery staple"


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    """Settings in a temporary home that let an installation operator name data stores in the
    test's folder and on the test servers."""
    return Settings(
        home=tmp_path / "home",
        database_url=None,
        store_directories=[tmp_path],
        store_servers=store_servers(),
        **values,
    )


def bootstrap(session: Session, domain: str = "contoso.onmicrosoft.com") -> User:
    """A tenant and its first Global administrator, as `dualwrite init` makes them: the first
    tenant's administrator is the installation operator, later tenants' are not."""
    first = operators.operator_count(session) == 0
    _tenant, admin = directory.create_tenant(
        session,
        None,
        domain=domain,
        display_name=domain.split(".")[0].title(),
        admin_upn=f"admin@{domain}",
        admin_name="Tenant Admin",
        admin_password=PASSWORD,
    )
    if first:
        operators.make_operator(session, admin)
    return admin


def add_user(
    session: Session,
    admin: User,
    alias: str,
    roles: tuple[str, ...] = (),
    licenses: tuple[str, ...] = (),
) -> User:
    return directory.create_user(
        session,
        admin,
        upn=f"{alias}@{admin.tenant.domain}",
        display_name=alias.title(),
        password=PASSWORD,
        roles=roles,
        licenses=licenses,
    )


def linked_world(
    session: Session,
    settings: Settings,
    fo_url: str,
    dv_url: str,
    *,
    domain: str = "contoso.onmicrosoft.com",
    project_name: str = "Rollout",
    env_name: str = "contoso-test",
    platform_name: str = "Sales",
) -> DualWriteLink:
    """contoso: a project, an F&O environment (USMF, DEMF) linked to a Dataverse for USMF, with
    the default solutions applied. Data stores at the given URLs."""
    admin = bootstrap(session, domain)
    project = projects.create_project(session, admin, project_name)
    spec = EnvironmentSpec(name=env_name, data_store_url=fo_url, legal_entities=["USMF", "DEMF"])
    env = environments.deploy_environment(session, settings, admin, project, spec)
    target = platform.create_environment(
        session,
        settings,
        admin,
        name=platform_name,
        region="West US",
        dataverse=True,
        dataverse_url=dv_url,
    )
    # What the Power Platform integration and dual-write application jobs do, in this session.
    ppi.integrate(session, env, target)
    dualwrite_app.install(session, env, target)
    link = wizard.create_link(session, admin, env, target, ["USMF"], consent=True)
    links.apply_default_solutions(session, admin, link)
    return link


def the_link(session: Session) -> DualWriteLink:
    """The only link of a test world."""
    return session.scalars(select(DualWriteLink)).one()


def worker_ticks(store: ControlStore, n: int = 6) -> None:
    """`n` passes of a fresh sync worker, as `dualwrite worker` would make them."""
    worker = Worker(store)
    try:
        for _ in range(n):
            worker.tick()
    finally:
        worker.close()
