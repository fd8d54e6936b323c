"""Lifecycle Services environment details: Power Platform integration, the dual-write
application, Link to Power Platform environment, jobs, application users and environment roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from dualwrite.api.deps import CurrentUser, SessionDep, SettingsDep
from dualwrite.bounds import MAX_BIGINT
from dualwrite.jobs.model import MAX_PAGE as MAX_JOBS
from dualwrite.jobs.model import environment_jobs, get_job
from dualwrite.lifecycle import appusers, dualwrite_app, environments, linking, ppi
from dualwrite.lifecycle.details import integration_section
from dualwrite.platform import environments as platform
from dualwrite.schemas import (
    ApplicationUserRead,
    ApplicationUsersFix,
    ApplicationUserUpdate,
    CheckRead,
    DualWriteAppRequest,
    EnvironmentUserRead,
    JobRead,
    PowerPlatformIntegrationRead,
    PpiSetupRequest,
    RoleGrant,
)

router = APIRouter(prefix="/environments/{env}", tags=["power platform integration"])


def _request(body: PpiSetupRequest) -> ppi.SetupRequest:
    return ppi.SetupRequest(
        use_existing=body.use_existing,
        platform_environment=body.platform_environment,
        dataverse_url=body.dataverse_url,
        confirm_name=body.confirm_name,
    )


@router.get("/power-platform", response_model=PowerPlatformIntegrationRead)
def show_integration(
    env: str, session: SessionDep, actor: CurrentUser
) -> PowerPlatformIntegrationRead:
    """The Power Platform Integration section: Dataverse, dual-write application, linking."""
    return integration_section(session, environments.get_environment(session, actor, env))


@router.post("/power-platform/validate", response_model=list[CheckRead])
def validate_setup(
    env: str, body: PpiSetupRequest, session: SessionDep, actor: CurrentUser
) -> list[CheckRead]:
    """Run every validation of the Setup dialog; nothing changes."""
    fo_env = environments.get_environment(session, actor, env)
    return [CheckRead.of(c) for c in ppi.check_setup(session, actor, fo_env, _request(body))]


@router.post("/power-platform/setup", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def setup_integration(
    env: str, body: PpiSetupRequest, session: SessionDep, actor: CurrentUser, settings: SettingsDep
) -> JobRead:
    """Set up Power Platform integration (irreversible: `confirm_name` is your name). Returns
    the provisioning job; follow it at /jobs/{id}."""
    fo_env = environments.get_environment(session, actor, env)
    return JobRead.of(ppi.request_setup(session, settings, actor, fo_env, _request(body)))


@router.get("/dualwrite-application/terms")
def dualwrite_terms(env: str, session: SessionDep, actor: CurrentUser) -> dict[str, str]:
    environments.get_environment(session, actor, env)
    return {"terms": dualwrite_app.TERMS}


@router.post("/dualwrite-application", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def install_dualwrite_application(
    env: str, body: DualWriteAppRequest, session: SessionDep, actor: CurrentUser
) -> JobRead:
    """Configure the dual-write application (accept the terms); returns its job."""
    fo_env = environments.get_environment(session, actor, env)
    target = (
        platform.get_environment(session, actor, body.platform_environment)
        if body.platform_environment
        else None
    )
    job = dualwrite_app.request_install(
        session, actor, fo_env, accept_terms=body.accept_terms, platform_env=target
    )
    return JobRead.of(job)


@router.post("/power-platform/link", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def link_to_platform(env: str, session: SessionDep, actor: CurrentUser) -> JobRead:
    """Link to Power Platform environment: dual-write to the integrated Dataverse; a job."""
    fo_env = environments.get_environment(session, actor, env)
    return JobRead.of(linking.request_link(session, actor, fo_env))


@router.get("/jobs", response_model=list[JobRead])
def list_jobs(
    env: str,
    session: SessionDep,
    actor: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_JOBS)] = 20,
) -> list[JobRead]:
    fo_env = environments.get_environment(session, actor, env)
    return [JobRead.of(j) for j in environment_jobs(session, fo_env, limit)]


@router.get("/jobs/{job_id}", response_model=JobRead)
def show_job(
    env: str,
    job_id: Annotated[int, Path(ge=0, le=MAX_BIGINT)],
    session: SessionDep,
    actor: CurrentUser,
) -> JobRead:
    return JobRead.of(get_job(session, environments.get_environment(session, actor, env), job_id))


@router.patch("/application-users/{side}", response_model=ApplicationUserRead)
def update_application_user(
    env: str,
    side: appusers.AppSide,
    body: ApplicationUserUpdate,
    session: SessionDep,
    actor: CurrentUser,
) -> ApplicationUserRead:
    """Enable or disable an application user, or change its security role."""
    fo_env = environments.get_environment(session, actor, env)
    target = dualwrite_app.require_integration(fo_env)
    user = appusers.update_application_user(
        session, actor, fo_env, target, side, enabled=body.enabled, security_role=body.security_role
    )
    return ApplicationUserRead.of(user, target.name)


@router.post("/application-users/fix", response_model=list[ApplicationUserRead])
def fix_application_users(
    env: str, body: ApplicationUsersFix, session: SessionDep, actor: CurrentUser
) -> list[ApplicationUserRead]:
    """Fix DW9003: each side's application user exists, is enabled and holds a security role
    (tenant administrators; logged). `dataverse_environment` defaults to the integrated one."""
    fo_env = environments.get_environment(session, actor, env)
    target = dualwrite_app.pair_target(session, actor, fo_env, body.dataverse_environment)
    users = appusers.fix_application_users(session, actor, fo_env, target)
    return [ApplicationUserRead.of(u, target.name) for u in users]


@router.get("/users", response_model=list[EnvironmentUserRead])
def list_environment_users(
    env: str, session: SessionDep, actor: CurrentUser
) -> list[EnvironmentUserRead]:
    """Users with a security role inside the environment (e.g. Dual-write user)."""
    fo_env = environments.get_environment(session, actor, env)
    return [EnvironmentUserRead(upn=u.user.upn, role=u.role.value) for u in fo_env.users]


@router.put("/users", response_model=EnvironmentUserRead)
def grant_environment_role(
    env: str, body: RoleGrant, session: SessionDep, actor: CurrentUser
) -> EnvironmentUserRead:
    fo_env = environments.get_environment(session, actor, env)
    granted = environments.grant_environment_role(session, actor, fo_env, body.upn, body.role)
    return EnvironmentUserRead(upn=granted.user.upn, role=granted.role.value)


@router.delete("/users/{upn}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_environment_role(
    env: str, upn: str, session: SessionDep, actor: CurrentUser
) -> Response:
    fo_env = environments.get_environment(session, actor, env)
    environments.revoke_environment_role(session, actor, fo_env, upn)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
