"""Power Platform integration (seed 003, and seed 001's new-Dataverse path): validations, the
irreversible typed-name confirmation, and the provisioning job with its brief downtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.checks import Check, failures, run_check, summary
from dualwrite.control.models import (
    EnvironmentState,
    FoEnvironment,
    InstalledSolution,
    Job,
    JobKind,
    License,
    PlatformEnvironment,
    PlatformEnvironmentAdmin,
    Project,
    Tenant,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.directory import qualifying_licenses
from dualwrite.installation import datastores
from dualwrite.jobs.model import JobRun, submit
from dualwrite.lifecycle.projects import ENVIRONMENT_ROLES, role_in
from dualwrite.platform.environments import (
    CREATOR_ROLES,
    DATAVERSE_SIZE_GB,
    default_dataverse_url,
    is_admin,
    new_environment_id,
    require_capacity,
)
from dualwrite.settings import Settings
from dualwrite.stores.datastore import Side, drop_data_store, prepare_data_store
from dualwrite.stores.locations import Location

DOWNTIME_REASON = "Power Platform integration setup"
# Finance and operations apps a Dataverse needs before it can be integrated (installed if missing).
PLATFORM_APPS = (
    ("Dynamics 365 finance and operations platform tools", "1.0.0"),
    ("Finance and operations virtual entities", "1.0.0"),
)


@dataclass(frozen=True)
class SetupRequest:
    """The Setup dialog: a new Dataverse, or "Use a different Power Platform environment"."""

    use_existing: bool = False
    platform_environment: str | None = None  # name or ID, with use_existing
    dataverse_url: str | None = None  # where a new Dataverse keeps its data (default: home)
    confirm_name: str | None = None  # the typed name of the "cannot be reversed" dialog


def integrated_platform(env: FoEnvironment) -> PlatformEnvironment | None:
    """The Dataverse environment Power Platform integration connects, None while only the
    initial placeholder is there."""
    current = env.platform_environment
    return current if current is not None and current.has_dataverse else None


def _find_platform(session: Session, tenant_id: int, key: str | None) -> PlatformEnvironment:
    if not key or not key.strip():
        raise ERR.INVALID_INPUT.error(
            field="Power Platform environment",
            problem="choose the environment to use when 'Use a different Power Platform "
            "environment' is Yes",
        )
    wanted = key.strip()
    query = select(PlatformEnvironment).where(
        PlatformEnvironment.tenant_id == tenant_id,
        (PlatformEnvironment.name == wanted) | (PlatformEnvironment.id == wanted.lower()),
    )
    found = session.scalar(query)
    if found is None:
        raise ERR.NOT_FOUND.error(
            kind="Power Platform environment", name=wanted, noun="platform env"
        )
    return found


def _governance(actor: User, tenant: Tenant) -> None:
    if not tenant.everyone_can_create_environments and not (
        actor.tenant_id == tenant.id and actor.has_role(*CREATOR_ROLES)
    ):
        raise ERR.CANNOT_CREATE_ENVIRONMENTS.error()


def require_lcs_role(project: Project, actor: User) -> None:
    if role_in(project, actor) not in ENVIRONMENT_ROLES:
        raise ERR.NOT_ENVIRONMENT_MANAGER.error(project=project.name)


def _home_tenant(project: Project, actor: User) -> None:
    if actor.tenant_id != project.tenant_id:
        raise ERR.WRONG_TENANT.error(
            yours=actor.tenant.domain, project=project.name, owner=project.tenant.domain
        )


def _license(session: Session, actor: User) -> None:
    if not qualifying_licenses(session, actor):
        known = session.scalars(
            select(License.name).where(License.qualifies_for_fo.is_(True)).order_by(License.name)
        )
        raise ERR.NO_QUALIFYING_LICENSE.error(upn=actor.upn, known=", ".join(known))


def _has_dataverse(target: PlatformEnvironment) -> None:
    if not target.has_dataverse:
        raise ERR.NO_DATAVERSE.error(name=target.name)


def _geography(env: FoEnvironment, target: PlatformEnvironment) -> None:
    if target.geography != env.geography:
        raise ERR.GEOGRAPHY_MISMATCH.error(
            platform=target.name,
            platform_geography=target.geography,
            name=env.name,
            region=env.region,
            geography=env.geography,
        )


def require_dataverse_admin(target: PlatformEnvironment, actor: User) -> None:
    if not is_admin(target, actor):
        raise ERR.NOT_DATAVERSE_ADMIN.error(platform=target.name)


def _free(env: FoEnvironment, target: PlatformEnvironment) -> None:
    other = target.fo_environment
    if other is not None and other.id != env.id:
        raise ERR.DATAVERSE_TAKEN.error(platform=target.name, other=other.name)


def validations(
    session: Session, actor: User, env: FoEnvironment, request: SetupRequest
) -> list[Check]:
    """Every prerequisite and validation of seed 003, each passing or failing on its own."""
    project = env.project
    tenant = project.tenant
    probes: list[tuple[str, Callable[[], None]]] = [
        ("Free database capacity (1 GB)", lambda: require_capacity(session, tenant)),
        ("Allowed to create Power Platform environments", lambda: _governance(actor, tenant)),
        (
            "Environment manager or Project owner in the project",
            lambda: require_lcs_role(project, actor),
        ),
        ("Account from the tenant that owns the project", lambda: _home_tenant(project, actor)),
        ("Qualifying license", lambda: _license(session, actor)),
    ]
    if request.use_existing:
        target = _find_platform(session, tenant.id, request.platform_environment)
        probes += [
            ("Power Platform environment has Dataverse", lambda: _has_dataverse(target)),
            ("Same geography as the environment's region", lambda: _geography(env, target)),
            ("System Administrator in Dataverse", lambda: require_dataverse_admin(target, actor)),
            ("Dataverse not integrated with another environment", lambda: _free(env, target)),
        ]
    return [run_check(name, probe) for name, probe in probes]


def _require_valid(env: FoEnvironment, checks: list[Check]) -> None:
    failed = failures(checks)
    if len(failed) == 1 and failed[0].error is not None:
        raise failed[0].error
    if failed:
        raise ERR.PPI_VALIDATION_FAILED.error(
            name=env.name, count=len(failed), problems=summary(checks)
        )


def require_setup_available(env: FoEnvironment) -> None:
    current = integrated_platform(env)
    if current is not None:
        raise ERR.PPI_ALREADY_SET_UP.error(name=env.name, platform=current.name)
    if env.state is EnvironmentState.DOWNTIME:
        raise ERR.ENVIRONMENT_DOWNTIME.error(name=env.name, reason=env.state_reason or "servicing")


def _normalised(name: str) -> str:
    return " ".join(name.split()).casefold()


def require_confirmation(actor: User, env: FoEnvironment, typed: str | None) -> None:
    """Seed 003 step 3: the user types their name; anything else changes nothing."""
    what = f"connecting '{env.name}' to Power Platform and Dataverse can't be undone"
    if not typed or not typed.strip():
        problem = f"{what}; type your name to confirm"
    elif _normalised(typed) != _normalised(actor.display_name):
        problem = f"{what}; '{typed.strip()}' is not your name"
    else:
        return
    raise ERR.CONFIRMATION_REQUIRED.error(problem=problem, expected=actor.display_name)


def _new_dataverse(
    session: Session, settings: Settings, actor: User, env: FoEnvironment, request: SetupRequest
) -> tuple[str, Location]:
    """Name and data store location of the Dataverse environment a new setup creates."""
    name = env.name
    taken = select(PlatformEnvironment.id).where(
        PlatformEnvironment.tenant_id == env.project.tenant_id, PlatformEnvironment.name == name
    )
    if session.scalar(taken) is not None:
        raise ERR.DUPLICATE_NAME.error(kind="Power Platform environment", name=name)
    default = default_dataverse_url(settings, env.project.tenant, name)
    return name, datastores.new_location(session, settings, actor, request.dataverse_url, default)


def check_setup(
    session: Session, actor: User, env: FoEnvironment, request: SetupRequest
) -> list[Check]:
    """The validation results the Setup dialog shows; nothing changes."""
    require_setup_available(env)
    return validations(session, actor, env, request)


def request_setup(
    session: Session, settings: Settings, actor: User, env: FoEnvironment, request: SetupRequest
) -> Job:
    """Validate, require the typed-name confirmation, then queue the provisioning job."""
    require_setup_available(env)
    _require_valid(env, validations(session, actor, env, request))
    params: dict[str, object] = {"use_existing": request.use_existing}
    location = None
    if request.use_existing:
        target = _find_platform(session, env.project.tenant_id, request.platform_environment)
        params["platform_environment_id"] = target.id
    else:
        params["name"], location = _new_dataverse(session, settings, actor, env, request)
        params["dataverse_url"] = location.url
    require_confirmation(actor, env, request.confirm_name)
    job = submit(session, JobKind.PPI_SETUP, env, actor, params)
    if location is not None:  # held by the job until the environment it creates takes it
        datastores.claim(session, location, env.project.tenant_id, job_id=job.id)
    return job


def _begin_downtime(run: JobRun) -> None:
    with run.store.session() as session:
        env = run.environment(session)
        actor = run.actor(session)
        require_setup_available(env)
        request = SetupRequest(
            use_existing=bool(run.params["use_existing"]),
            platform_environment=run.params.get("platform_environment_id"),
        )
        # Re-checked: roles, licenses or capacity may have changed since the request.
        _require_valid(env, validations(session, actor, env, request))
        env.state, env.state_reason = EnvironmentState.DOWNTIME, DOWNTIME_REASON


def end_downtime(session: Session, env: FoEnvironment) -> None:
    if env.state is EnvironmentState.DOWNTIME and env.state_reason == DOWNTIME_REASON:
        env.state, env.state_reason = EnvironmentState.DEPLOYED, None


def install_platform_apps(session: Session, target: PlatformEnvironment) -> list[str]:
    have = set(
        session.scalars(
            select(InstalledSolution.name).where(
                InstalledSolution.platform_environment_id == target.id
            )
        )
    )
    added = []
    for name, version in PLATFORM_APPS:
        if name not in have:
            session.add(
                InstalledSolution(
                    platform_environment_id=target.id, name=name, kind="platform", version=version
                )
            )
            added.append(name)
    return added


def integrate(session: Session, env: FoEnvironment, target: PlatformEnvironment) -> None:
    """Connect the environment to the Dataverse: missing platform apps installed, capacity used,
    the initial placeholder disconnected (it stays, without Dataverse), downtime over."""
    install_platform_apps(session, target)
    target.storage_used_gb += DATAVERSE_SIZE_GB
    initial = env.platform_environment
    if initial is not None and initial.id != target.id:
        initial.fo_environment_id = None
        session.flush()  # one environment per F&O environment: release it first
    target.fo_environment_id = env.id
    end_downtime(session, env)
    session.flush()


def _connect(run: JobRun) -> None:
    with run.store.session() as session:
        env = run.environment(session)
        actor = run.actor(session)
        if run.params["use_existing"]:
            target = session.get_one(PlatformEnvironment, run.params["platform_environment_id"])
        else:
            target = PlatformEnvironment(
                id=new_environment_id(),
                tenant_id=env.project.tenant_id,
                name=run.params["name"],
                region=env.region,
                has_dataverse=True,
                dataverse_url=run.params["dataverse_url"],
            )
            target.admins.append(PlatformEnvironmentAdmin(user_id=actor.id))
            session.add(target)
            session.flush()
            datastores.hand_over(session, run.job_id, target.id)
        integrate(session, env, target)


def run_setup(run: JobRun) -> None:
    """The provisioning job. The environment is in downtime meanwhile; on any failure it returns
    to how it was (and a Dataverse store created by this job is dropped)."""
    run.step("Validating", 5)
    _begin_downtime(run)
    created: str | None = None
    try:
        run.step("Preparing the Dataverse data store", 25)
        if run.params["use_existing"]:
            with run.store.session() as session:
                target = session.get_one(PlatformEnvironment, run.params["platform_environment_id"])
                url = target.dataverse_url or ""
            prepare_data_store(url, Side.DATAVERSE)  # reachable, complete schema
        else:
            url = run.params["dataverse_url"]
            if prepare_data_store(url, Side.DATAVERSE).created:
                created = url
        run.step("Installing finance and operations platform apps on Dataverse", 60)
        run.step("Connecting the environment to Dataverse", 85)
        _connect(run)
    except BaseException:
        with run.store.session() as session:
            end_downtime(session, run.environment(session))
        if created:
            drop_data_store(created, Side.DATAVERSE)
        raise


def recover_setup(session: Session, env: FoEnvironment) -> None:
    """An interrupted setup job: leave downtime (its changes were never committed)."""
    end_downtime(session, env)
