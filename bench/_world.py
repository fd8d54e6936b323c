"""A linked world for benchmarks, built through the services as a user's setup would be: a
tenant whose admin is the installation operator, an F&O environment and a Dataverse on the given
stores, Power Platform integration, the dual-write application, the link for USMF and the
default solutions applied."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from dualwrite.control.models import User
from dualwrite.control.store import ControlStore
from dualwrite.identity import directory
from dualwrite.installation import operators
from dualwrite.lifecycle import dualwrite_app, environments, ppi, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import links, wizard
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings

DOMAIN = "bench.onmicrosoft.com"
ADMIN = f"admin@{DOMAIN}"
PASSWORD = "bench password, long enough"  # noqa: S105 - a throwaway benchmark tenant


def bench_settings(home: Path) -> Settings:
    """The bench names its stores, as an installation operator would: in its folders and on
    the local PostgreSQL."""
    return Settings(
        home=home,
        database_url=None,
        store_directories=[home.parent],
        store_servers=["127.0.0.1:5432"],
    )


def linked_world(
    store: ControlStore, settings: Settings, fo_url: str, dv_url: str, name: str = "bench"
) -> str:
    """Builds the world in `store` (another link of the same tenant when it is there, named
    after `name`); returns the Dataverse's environment ID."""
    with store.session() as session:
        if session.scalar(select(User).where(User.upn == ADMIN)) is None:
            _tenant, admin = directory.create_tenant(
                session,
                None,
                domain=DOMAIN,
                display_name="Bench",
                admin_upn=ADMIN,
                admin_name="Bench Admin",
                admin_password=PASSWORD,
            )
            operators.make_operator(session, admin)
            # Room for many links (each F&O environment comes with a Power Platform one).
            directory.update_tenant_settings(session, admin, admin.tenant, database_capacity_gb=100)
        admin = directory.get_user(session, ADMIN)
        project = projects.create_project(session, admin, f"Bench {name}")
        spec = EnvironmentSpec(name=name, data_store_url=fo_url, legal_entities=["USMF"])
        env = environments.deploy_environment(session, settings, admin, project, spec)
        target = platform.create_environment(
            session,
            settings,
            admin,
            name=name.title(),
            region="West US",
            dataverse=True,
            dataverse_url=dv_url,
        )
        ppi.integrate(session, env, target)
        dualwrite_app.install(session, env, target)
        link = wizard.create_link(session, admin, env, target, ["USMF"], consent=True)
        links.apply_default_solutions(session, admin, link)
        return target.id
