"""The demo world: tenant, admin, LCS project, F&O sandbox with data, Dataverse, dual-write link."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect

from dualwrite.control.models import FoEnvironment, Job
from dualwrite.control.store import ControlStore
from dualwrite.databases import display_url, translate_errors
from dualwrite.errors import ERR
from dualwrite.identity import directory
from dualwrite.installation import operators
from dualwrite.jobs.model import job_error
from dualwrite.jobs.runner import run_job
from dualwrite.lifecycle import dualwrite_app, linking, ppi
from dualwrite.lifecycle import environments as fo_environments
from dualwrite.lifecycle.projects import create_project
from dualwrite.link import links, tablemaps
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_dataverse, seed_fo

Progress = Callable[[str, int, int], None]

DOMAIN = "contoso.onmicrosoft.com"
ADMIN_UPN = f"admin@{DOMAIN}"
PROJECT = "Contoso ERP rollout"
FO_ENVIRONMENT = "contoso-sandbox"
PLATFORM_ENVIRONMENT = "Contoso Field Service"
LEGAL_ENTITIES = ("USMF", "DEMF", "GBSI")
# Run with initial sync from F&O when the demo starts; the worker in `dualwrite serve` does it.
DEMO_MAPS = (
    "Customers V3 (accounts)",
    "Vendors V2 (msdyn_vendors)",
    "Released products (products)",
)


@dataclass(frozen=True)
class DemoWorld:
    tenant: str
    upn: str
    password: str
    project: str
    fo_environment: str
    platform_environment: str


def demo_settings(settings: Settings, control_store: str | None = None) -> Settings:
    """The demo lives in its own folder on SQLite, whatever the control store URL says; with
    `control_store` (an empty PostgreSQL or MariaDB database) its control store is there, so
    several `dualwrite worker --stream` processes can share its maps."""
    update = {"home": settings.home / "demo", "database_url": control_store}
    return settings.model_copy(update=update)


def _require_empty(store: ControlStore) -> None:
    """A demo's control store on a server must start empty: the demo never wipes a database."""
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        some = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
        raise ERR.INVALID_INPUT.error(
            field="control store",
            problem=f"{display_url(store.engine.url)} already has tables ({some}); the demo "
            "builds only in an empty database: create a new one (e.g. `createdb dualwrite_demo`)",
        )


MARKER = ".dualwrite-demo"  # left in every demo folder: only such folders are ever wiped


def _clear_demo_folder(home: Path) -> None:
    """Wipe a previous demo, but never a folder the demo did not make (e.g. `--home ~`)."""
    if home.exists():
        if not home.is_dir() or (any(home.iterdir()) and not (home / MARKER).exists()):
            raise ERR.INVALID_INPUT.error(
                field="demo folder",
                problem=f"{home} is not empty and was not made by `dualwrite demo`, which wipes it",
            )
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).touch()


def _run_job(store: ControlStore, job_id: int, progress: Progress | None) -> None:
    """Run a setup job here, as its progress bar; a failed job stops the demo with its error."""
    with store.session() as session:
        label = session.get_one(Job, job_id).kind.value

    def step(_text: str, percent: int) -> None:
        if progress:
            progress(label, percent, 100)

    run_job(store, job_id, step)
    with store.session() as session:
        error = job_error(session.get_one(Job, job_id))
    if error is not None:
        raise error
    step("", 100)


def build_demo_world(
    settings: Settings,
    progress: Progress | None = None,
    *,
    customers: int = 3000,
    vendors: int = 400,
    products: int = 800,
    contacts: int = 600,
    accounts: int = 250,
) -> DemoWorld:
    """Wipe `settings.home` and build a fresh world in it (pass `demo_settings(...)` first)."""
    if settings.database_url is not None:  # refused before the old demo is wiped
        probe = ControlStore(settings.database_url)
        try:
            _require_empty(probe)
        finally:
            probe.dispose()
    _clear_demo_folder(settings.home)
    password = secrets.token_urlsafe(12)
    store = ControlStore(settings.control_url)
    try:
        store.upgrade()
        with store.session() as session:
            _tenant, admin = directory.create_tenant(
                session,
                None,
                domain=DOMAIN,
                display_name="Contoso",
                admin_upn=ADMIN_UPN,
                admin_name="Contoso Administrator",
                admin_password=password,
            )
            operators.make_operator(session, admin)  # as `dualwrite init` makes the first admin
            directory.assign_license(session, admin, admin.upn, "D365_UNIFIED_OPERATIONS")
            project = create_project(session, admin, PROJECT)
            spec = fo_environments.EnvironmentSpec(
                name=FO_ENVIRONMENT, region="West US", legal_entities=LEGAL_ENTITIES
            )
            fo_env = fo_environments.deploy_environment(session, settings, admin, project, spec)
            dataverse = platform.create_environment(
                session,
                settings,
                admin,
                name=PLATFORM_ENVIRONMENT,
                region="West US",
                dataverse=True,
                dataverse_url=None,
            )
            fo_url = fo_env.data_store_url
            dataverse_url = dataverse.dataverse_url
            fo_env_id, dataverse_id = fo_env.id, dataverse.id
        seed_fo(
            fo_url,
            legal_entities=LEGAL_ENTITIES,
            customers=customers,
            vendors=vendors,
            products=products,
            contacts=contacts,
            progress=progress,
        )
        # The existing Dataverse already has customers of its own (e.g. from Field Service).
        assert dataverse_url is not None  # noqa: S101 - created with Dataverse above
        seed_dataverse(
            dataverse_url, legal_entities=LEGAL_ENTITIES, accounts=accounts, progress=progress
        )
        # The seeds' path, step by step: Power Platform integration with the existing Dataverse,
        # the dual-write application, Link to Power Platform environment, Apply Solution, Run.
        with store.session() as session:
            admin = directory.get_user(session, ADMIN_UPN)
            deployed = session.get_one(FoEnvironment, fo_env_id)
            request = ppi.SetupRequest(
                use_existing=True,
                platform_environment=dataverse_id,
                confirm_name=admin.display_name,
            )
            job_id = ppi.request_setup(session, settings, admin, deployed, request).id
        _run_job(store, job_id, progress)
        with store.session() as session:
            admin = directory.get_user(session, ADMIN_UPN)
            deployed = session.get_one(FoEnvironment, fo_env_id)
            job_id = dualwrite_app.request_install(session, admin, deployed, accept_terms=True).id
        _run_job(store, job_id, progress)
        with store.session() as session:
            admin = directory.get_user(session, ADMIN_UPN)
            job_id = linking.request_link(
                session, admin, session.get_one(FoEnvironment, fo_env_id)
            ).id
        _run_job(store, job_id, progress)
        with store.session() as session:
            admin = directory.get_user(session, ADMIN_UPN)
            link = links.get_link(session, session.get_one(FoEnvironment, fo_env_id))
            links.apply_default_solutions(session, admin, link)
            tablemaps.run_maps(session, admin, link, DEMO_MAPS, initial_sync=True, master="fo")
    finally:
        store.dispose()
    return DemoWorld(
        tenant=DOMAIN,
        upn=ADMIN_UPN,
        password=password,
        project=PROJECT,
        fo_environment=FO_ENVIRONMENT,
        platform_environment=PLATFORM_ENVIRONMENT,
    )
