"""Dual-write links (F&O environment ↔ Dataverse) and the solutions applied on them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    AppliedSolution,
    DirectoryRole,
    DualWriteLink,
    FoEnvironment,
    PlatformEnvironment,
    TableMapState,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.authz import require_role
from dualwrite.maps.defaults import default_solution_texts
from dualwrite.maps.loader import load_solution_text
from dualwrite.maps.model import Solution, TableMap
from dualwrite.maps.validate import validate
from dualwrite.stores import dataverse, fo
from dualwrite.stores.datastore import legal_entities


def require_tenant_admin(actor: User, tenant_id: int, action: str) -> None:
    """Seed 002: linking environments and adding table maps need a tenant admin."""
    require_role(actor, tenant_id, action, DirectoryRole.GLOBAL_ADMIN)


def create_link(
    session: Session,
    actor: User,
    env: FoEnvironment,
    platform_env: PlatformEnvironment,
    companies: Sequence[str],
) -> DualWriteLink:
    """Link an F&O environment to a Dataverse for the chosen legal entities."""
    require_tenant_admin(actor, env.project.tenant_id, "Linking environments for dual-write")
    if not platform_env.has_dataverse or not platform_env.dataverse_url:
        raise ERR.NO_DATAVERSE.error(name=platform_env.name)
    if session.scalar(select(DualWriteLink).where(DualWriteLink.fo_environment_id == env.id)):
        raise ERR.DUPLICATE_NAME.error(kind="dual-write link for environment", name=env.name)
    available = {e.id for e in legal_entities(env.data_store_url)}
    chosen = list(dict.fromkeys(c.strip().upper() for c in companies if c.strip()))
    unknown = [c for c in chosen if c not in available]
    if not chosen or unknown:
        problem = (
            f"{', '.join(unknown)} not in environment '{env.name}'"
            if unknown
            else "choose at least one"
        )
        raise ERR.INVALID_INPUT.error(field="legal entities", problem=problem)
    link = DualWriteLink(
        fo_environment=env,
        platform_environment=platform_env,
        legal_entities=",".join(chosen),
        created_by_id=actor.id,
    )
    session.add(link)
    session.flush()
    return link


def get_link(session: Session, env: FoEnvironment) -> DualWriteLink:
    link = session.scalar(select(DualWriteLink).where(DualWriteLink.fo_environment_id == env.id))
    if link is None:
        raise ERR.NOT_LINKED.error(name=env.name)
    return link


def solutions_of(link: DualWriteLink) -> list[Solution]:
    return [load_solution_text(s.definition, s.source) for s in link.solutions]


def link_maps(link: DualWriteLink) -> list[TableMap]:
    """The link's published maps in dependency order, rebuilt from the stored definitions."""
    return validate(solutions_of(link), fo.metadata, dataverse.metadata)


def apply_solutions(
    session: Session, actor: User, link: DualWriteLink, texts: Sequence[tuple[str, str]]
) -> list[TableMapState]:
    """Apply solutions (source name, TOML text): validate them with what is already applied,
    store them, and publish their maps as Not running. Re-applying a solution updates it."""
    require_tenant_admin(actor, link.fo_environment.project.tenant_id, "Adding table maps")
    new = [load_solution_text(text, source) for source, text in texts]
    kept = [s for s in solutions_of(link) if s.name not in {n.name for n in new}]
    validate([*kept, *new], fo.metadata, dataverse.metadata)
    by_name = {s.name: s for s in link.solutions}
    for solution, (source, text) in zip(new, texts, strict=True):
        stored = by_name.get(solution.name)
        if stored is None:
            link.solutions.append(
                AppliedSolution(
                    name=solution.name, version=solution.version, source=source, definition=text
                )
            )
        else:
            stored.version, stored.source, stored.definition = solution.version, source, text
    existing = {m.name for m in link.table_maps}
    for solution in new:
        for tmap in solution.maps:
            if tmap.name not in existing:
                link.table_maps.append(TableMapState(name=tmap.name, solution=solution.name))
    session.flush()
    return list(link.table_maps)


def apply_default_solutions(
    session: Session, actor: User, link: DualWriteLink
) -> list[TableMapState]:
    """Seed 000's Apply Solution: publish the default dual-write table maps."""
    return apply_solutions(session, actor, link, default_solution_texts())
