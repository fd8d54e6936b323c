"""A tenant ready for Power Platform integration: built through the services, on SQLite."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import FoEnvironment, Job, PlatformEnvironment, User
from dualwrite.control.store import ControlStore
from dualwrite.identity import directory
from dualwrite.jobs.model import job_error
from dualwrite.jobs.runner import run_job
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import add_user, bootstrap

ENV = "contoso-test"
FIELD = "Field Service"  # an existing Power Platform environment with Dataverse
ADMIN = "admin@contoso.onmicrosoft.com"


@dataclass(frozen=True)
class SetupWorld:
    store: ControlStore
    settings: Settings

    def user(self, session: Session, alias: str) -> User:
        return directory.get_user(session, f"{alias}@contoso.onmicrosoft.com")

    def env(self, session: Session, name: str = ENV) -> FoEnvironment:
        return session.scalars(select(FoEnvironment).where(FoEnvironment.name == name)).one()

    def platform(self, session: Session, name: str = FIELD) -> PlatformEnvironment:
        query = select(PlatformEnvironment).where(PlatformEnvironment.name == name)
        return session.scalars(query).one()

    def run(self, job_id: int) -> Job:
        """Run a queued job as the job runner would; the job as it ended."""
        assert run_job(self.store, job_id)
        with self.store.session() as session:
            job = session.get_one(Job, job_id)
            session.expunge(job)
            return job

    def error_of(self, job: Job) -> str | None:
        error = job_error(job)
        return error.code if error else None


def setup_world(
    store: ControlStore, settings: Settings, dataverse_url: str | None = None
) -> SetupWorld:
    """contoso: admin (Global admin, licensed), em (Environment manager, licensed, System
    Administrator of Field Service), joe (plain user, licensed); project ERP with environment
    contoso-test (West US, USMF and DEMF); Field Service (West US) with Dataverse; Tokyo (Japan
    East) with Dataverse."""
    with store.session() as session:
        admin = bootstrap(session)
        directory.assign_license(session, admin, admin.upn, "D365_FINANCE")
        em = add_user(session, admin, "em", licenses=("D365_SCM",))
        add_user(session, admin, "joe", licenses=("D365_FINANCE",))
        project = projects.create_project(session, admin, "ERP")
        projects.add_member(session, admin, project, em.upn, "environment-manager")
        spec = EnvironmentSpec(name=ENV, legal_entities=["USMF", "DEMF"])
        environments.deploy_environment(session, settings, admin, project, spec)
        for name, region, url in (
            ("Field Service", "West US", dataverse_url),
            ("Tokyo", "Japan East", None),
        ):
            target = platform.create_environment(
                session,
                settings,
                admin,
                name=name,
                region=region,
                dataverse=True,
                dataverse_url=url,
            )
            platform.add_admin(session, admin, target, em.upn)
    return SetupWorld(store, settings)
