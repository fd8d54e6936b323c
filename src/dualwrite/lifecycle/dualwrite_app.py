"""The Dual-write application button (seed 001): terms, Configure, and the asynchronous job that
creates the application users on both sides and installs the orchestration solutions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dualwrite.control.models import FoEnvironment, Job, JobKind, PlatformEnvironment, User
from dualwrite.errors import ERR
from dualwrite.jobs.model import JobRun, submit
from dualwrite.lifecycle.appusers import (
    install_orchestration,
    register_application_users,
    require_service_principal,
)
from dualwrite.lifecycle.environments import require_writable
from dualwrite.lifecycle.ppi import integrated_platform, require_dataverse_admin, require_lcs_role
from dualwrite.platform import environments as platform
from dualwrite.stores.datastore import Side, prepare_data_store

TERMS = (
    "The dual-write application creates an application user in your Dataverse environment and "
    "registers its application ID in your finance and operations environment, and installs the "
    "dual-write orchestration solutions into Dataverse. Data of the table maps you run is copied "
    "between the two environments."
)


def require_integration(env: FoEnvironment) -> PlatformEnvironment:
    target = integrated_platform(env)
    if target is None:
        raise ERR.PPI_NOT_SET_UP.error(name=env.name)
    return target


def pair_target(
    session: Session, actor: User, env: FoEnvironment, dataverse: str | None
) -> PlatformEnvironment:
    """The Dataverse of an application-user pair: the one named (the link wizard may choose
    another than the integrated one), else the integrated one."""
    if dataverse:
        return platform.get_environment(session, actor, dataverse)
    return require_integration(env)


def request_install(
    session: Session,
    actor: User,
    env: FoEnvironment,
    *,
    accept_terms: bool,
    platform_env: PlatformEnvironment | None = None,
) -> Job:
    """Configure: checks what the user can fix now, then queues the install job. Without
    `platform_env` it targets the integrated Dataverse; naming another Dataverse is the manual
    prerequisites path (application users registered by hand), which can end in a linking
    mismatch that the environment page then reports."""
    require_writable(env)
    require_lcs_role(env.project, actor)
    target = platform_env if platform_env is not None else require_integration(env)
    if not target.has_dataverse:
        raise ERR.NO_DATAVERSE.error(name=target.name)
    require_dataverse_admin(target, actor)
    if not accept_terms:
        raise ERR.TERMS_NOT_ACCEPTED.error()
    return submit(
        session, JobKind.DUALWRITE_APP, env, actor, {"platform_environment_id": target.id}
    )


def install(session: Session, env: FoEnvironment, target: PlatformEnvironment) -> None:
    """Application users on both sides and the orchestration solutions in Dataverse; DW9003 when
    an application user that was already there cannot connect (nothing is changed then)."""
    register_application_users(session, env, target)
    install_orchestration(session, target)
    require_service_principal(session, env, target)


def run_install(run: JobRun) -> None:
    """One transaction: a failure (DW9003, a store that cannot be reached) changes nothing."""
    run.step("Connecting to Dataverse and finance and operations", 10)
    with run.store.session() as session:
        env = run.environment(session)
        target = session.get_one(PlatformEnvironment, run.params["platform_environment_id"])
        fo_url, dv_url = env.data_store_url, target.dataverse_url or ""
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    run.step("Creating the application users and installing the orchestration solutions", 50)
    with run.store.session() as session:
        env = run.environment(session)
        target = session.get_one(PlatformEnvironment, run.params["platform_environment_id"])
        install(session, env, target)
