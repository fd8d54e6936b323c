"""Seed 000's "Setup link to Dataverse" wizard: choose an environment (only Dataverse
environments the user administers), choose legal entities, health check (rerun until it
passes), then summary, privacy notice and consent, and Create."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.activity import token_exchange_denied
from dualwrite.checks import Check, failures, run_check, summary
from dualwrite.control.models import DualWriteLink, FoEnvironment, PlatformEnvironment, User
from dualwrite.errors import ERR
from dualwrite.lifecycle.appusers import (
    CHECK_NAME,
    orchestration_installed,
    require_service_principal,
)
from dualwrite.lifecycle.environments import require_writable
from dualwrite.link.links import (
    chosen_legal_entities,
    insert_link,
    is_tenant_admin,
    require_linkable,
)
from dualwrite.platform.environments import is_admin
from dualwrite.schemas import application_users_page_path
from dualwrite.stores.datastore import Side, prepare_data_store

LINK_ACTION = "Linking environments for dual-write"
PRIVACY_NOTICE = (
    "Dual-write copies the data of the table maps you run between your finance and operations "
    "environment and your Dataverse environment, in both directions. Both environments may be "
    "subject to different compliance and data residency terms; by linking them you consent to "
    "this data flow."
)


def wizard_environments(session: Session, actor: User) -> list[PlatformEnvironment]:
    """Step 1: the Dataverse environments where the signed-in user is an environment admin."""
    query = (
        select(PlatformEnvironment)
        .where(
            PlatformEnvironment.tenant_id == actor.tenant_id,
            PlatformEnvironment.has_dataverse.is_(True),
        )
        .order_by(PlatformEnvironment.name)
    )
    return [e for e in session.scalars(query) if is_admin(e, actor)]


def _tenant_admin(actor: User, env: FoEnvironment) -> None:
    if not is_tenant_admin(actor, env.project.tenant_id):
        raise token_exchange_denied(actor, LINK_ACTION)


def _environment_admin(actor: User, target: PlatformEnvironment) -> None:
    if not is_admin(target, actor):
        raise ERR.NOT_DATAVERSE_ADMIN.error(platform=target.name)


def _reachable(url: str | None, side: Side, name: str) -> None:
    if not url:
        raise ERR.NO_DATAVERSE.error(name=name)
    prepare_data_store(url, side)  # reachable, and the complete schema (created when empty)


def _solutions(session: Session, env: FoEnvironment, target: PlatformEnvironment) -> None:
    if not orchestration_installed(session, target):
        raise ERR.DUALWRITE_APP_MISSING.error(name=env.name, platform=target.name)


def _legal_entities(env: FoEnvironment, companies: Sequence[str]) -> None:
    chosen_legal_entities(env, companies)


def health_check(
    session: Session,
    actor: User,
    env: FoEnvironment,
    target: PlatformEnvironment,
    companies: Sequence[str],
) -> list[Check]:
    """Step 3: every check passes or fails with its fix; nothing changes."""
    probes: list[tuple[str, Callable[[], None]]] = [
        ("Tenant administrator signed in", lambda: _tenant_admin(actor, env)),
        ("Environment admin in Dataverse", lambda: _environment_admin(actor, target)),
        (
            "Dataverse reachable",
            lambda: _reachable(target.dataverse_url, Side.DATAVERSE, target.name),
        ),
        (
            "Finance and operations data store reachable",
            lambda: _reachable(env.data_store_url, Side.FO, env.name),
        ),
        (
            CHECK_NAME,
            lambda: require_service_principal(session, env, target),
        ),
        ("Dual-write solutions installed in Dataverse", lambda: _solutions(session, env, target)),
        ("Legal entities valid", lambda: _legal_entities(env, companies)),
        ("Environments not linked yet", lambda: require_linkable(session, env, target)),
    ]
    # Where a failed check is fixed in the web UI (the health check's fix link).
    fixes = {CHECK_NAME: application_users_page_path(env.name, target.name, companies)}
    return [run_check(name, probe, fixes.get(name)) for name, probe in probes]


def create_link(
    session: Session,
    actor: User,
    env: FoEnvironment,
    target: PlatformEnvironment,
    companies: Sequence[str],
    *,
    consent: bool,
) -> DualWriteLink:
    """Step 4, Create: a tenant admin's consent and a passing health check, run again now."""
    _tenant_admin(actor, env)
    require_writable(env)
    if not consent:
        raise ERR.CONSENT_REQUIRED.error()
    checks = health_check(session, actor, env, target, companies)
    if failed := failures(checks):
        raise ERR.HEALTH_CHECK_FAILED.error(
            count=len(failed), total=len(checks), problems=summary(checks)
        )
    return insert_link(session, actor, env, target, companies)
