"""The environment details page: the environment, its data store, and the Power Platform
Integration section (integrated Dataverse, dual-write application, linking, recent jobs)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dualwrite.checks import run_check
from dualwrite.control.models import FoEnvironment
from dualwrite.jobs.model import environment_jobs
from dualwrite.lifecycle.appusers import (
    CHECK_NAME,
    application_users,
    installed_solutions,
    orchestration_installed,
    require_service_principal,
)
from dualwrite.lifecycle.linking import linking_status
from dualwrite.lifecycle.ppi import integrated_platform
from dualwrite.schemas import (
    ApplicationUserRead,
    CheckRead,
    EnvironmentDetail,
    EnvironmentRead,
    JobRead,
    LegalEntityRead,
    LinkingRead,
    PowerPlatformIntegrationRead,
    application_users_page_path,
)
from dualwrite.stores.datastore import Side, legal_entities, row_counts


def integration_section(session: Session, env: FoEnvironment) -> PowerPlatformIntegrationRead:
    current = env.platform_environment
    target = integrated_platform(env)
    users: list[ApplicationUserRead] = []
    solutions: list[str] = []
    installed = False
    problem = None
    if target is not None:
        users = [
            ApplicationUserRead.of(u, target.name)
            for u in application_users(session, env, target).values()
        ]
        solutions = [f"{s.name} {s.version}" for s in installed_solutions(session, target)]
        installed = bool(users) and orchestration_installed(session, target)
        if users:  # once the dual-write application made them: can they connect (DW9003)?
            fix = application_users_page_path(env.name, target.name)
            found = run_check(
                CHECK_NAME, lambda: require_service_principal(session, env, target), fix
            )
            problem = None if found.passed else CheckRead.of(found)
    status = linking_status(session, env)
    return PowerPlatformIntegrationRead(
        platform_environment=current.name if current else None,
        platform_environment_id=current.id if current else None,
        dataverse=target is not None,
        setup_available=target is None,
        dualwrite_application=installed,
        application_users=users,
        application_users_problem=problem,
        installed_solutions=solutions,
        linking=LinkingRead(
            integrated_with=status.integrated_with,
            linked_to=status.linked_to,
            dualwrite_page=status.dualwrite_page,
            warning=status.warning,
            fixes=status.fixes,
        ),
        jobs=[JobRead.of(j) for j in environment_jobs(session, env, limit=10)],
    )


def environment_detail(session: Session, env: FoEnvironment) -> EnvironmentDetail:
    """The environment with what its data store holds and its Power Platform integration."""
    url = env.data_store_url
    return EnvironmentDetail(
        **EnvironmentRead.of(env).model_dump(),
        legal_entities=[LegalEntityRead(id=e.id, name=e.name) for e in legal_entities(url)],
        row_counts=row_counts(url, Side.FO),
        power_platform_integration=integration_section(session, env),
    )
