"""Linking seen from Lifecycle Services (seed 001): "Link to Power Platform environment" as an
asynchronous job, the hyperlink to the dual-write page, the linking-mismatch warning with its
two fixes, and resetting the link."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dualwrite.control.models import FoEnvironment, Job, JobKind, PlatformEnvironment, User
from dualwrite.errors import ERR
from dualwrite.jobs.model import JobRun, submit
from dualwrite.lifecycle.appusers import orchestration_installed, require_service_principal
from dualwrite.lifecycle.dualwrite_app import require_integration
from dualwrite.lifecycle.environments import require_writable
from dualwrite.lifecycle.ppi import integrated_platform, require_lcs_role
from dualwrite.link.links import find_link, insert_link, require_linkable, require_tenant_admin
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind
from dualwrite.schemas import dualwrite_page_path
from dualwrite.stores.datastore import Side, legal_entities, prepare_data_store

MISMATCH_WARNING = (
    "dualwrite has detected that your environment is linked via Dual-write to a different "
    "destination than specified in Power Platform Integration, which isn't recommended."
)


def request_link(session: Session, actor: User, env: FoEnvironment) -> Job:
    """Link to Power Platform environment: the integrated Dataverse, once the dual-write
    application is installed."""
    require_writable(env)
    require_lcs_role(env.project, actor)
    target = require_integration(env)
    require_linkable(session, env, target)
    if not orchestration_installed(session, target):
        raise ERR.DUALWRITE_APP_MISSING.error(name=env.name, platform=target.name)
    return submit(session, JobKind.LINK, env, actor, {"platform_environment_id": target.id})


def run_link(run: JobRun) -> None:
    run.step("Checking the application users", 15)
    with run.store.session() as session:
        env = run.environment(session)
        target = session.get_one(PlatformEnvironment, run.params["platform_environment_id"])
        require_service_principal(session, env, target)
        fo_url, dv_url = env.data_store_url, target.dataverse_url or ""
    run.step("Connecting to both data stores", 45)
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    companies = [e.id for e in legal_entities(fo_url)]
    run.step("Creating the link", 80)
    with run.store.session() as session:
        env = run.environment(session)
        target = session.get_one(PlatformEnvironment, run.params["platform_environment_id"])
        require_service_principal(session, env, target)
        insert_link(session, run.actor(session), env, target, companies)


@dataclass(frozen=True)
class LinkingStatus:
    """What the environment details page says about dual-write linking."""

    integrated_with: str | None  # Power Platform integration's Dataverse environment
    linked_to: str | None  # dual-write's Dataverse environment
    dualwrite_page: str | None
    warning: str | None = None
    fixes: list[str] = field(default_factory=list)


def linking_status(session: Session, env: FoEnvironment) -> LinkingStatus:
    integrated = integrated_platform(env)
    link = find_link(session, env)
    linked = link.platform_environment if link is not None else None
    page = dualwrite_page_path(env.name) if link is not None else None
    if linked is None or (integrated is not None and integrated.id == linked.id):
        return LinkingStatus(
            integrated.name if integrated else None, linked.name if linked else None, page
        )
    if integrated is None:
        fixes = [
            f"Set up Power Platform integration with the Dataverse dual-write is linked to: "
            f"Setup with 'Use a different Power Platform environment' = Yes and choose "
            f"'{linked.name}' (`dualwrite env ppi setup {env.name} --existing '{linked.name}'`)."
        ]
    else:
        fixes = [
            f"Reset or change linking: stop the table maps, reset the link "
            f"(`dualwrite link reset {env.name}`), then link again to '{integrated.name}'."
        ]
    return LinkingStatus(
        integrated.name if integrated else None, linked.name, page, MISMATCH_WARNING, fixes
    )


def reset_link(session: Session, actor: User, env: FoEnvironment) -> None:
    """Unlink dual-write (seed 001's "reset or change linking"); every map must be stopped."""
    link = find_link(session, env)
    if link is None:
        raise ERR.NOT_LINKED.error(name=env.name)
    require_tenant_admin(actor, env.project.tenant_id, "Resetting the dual-write link")
    require_writable(env)
    active = [m.name for m in link.table_maps if m.state != "Not running"]
    if active:
        raise ERR.MAPS_NOT_STOPPED.error(name=env.name, maps=", ".join(active))
    name = link.platform_environment.name
    session.delete(link)
    activity.record(session, env, ActivityKind.CONFIGURATION, f"Link to {name} reset", actor)
    session.flush()
