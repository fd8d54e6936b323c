"""Dual-write links (F&O environment ↔ Dataverse) and the solutions applied on them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.activity import token_exchange_denied
from dualwrite.control.models import (
    AppliedSolution,
    DirectoryRole,
    DualWriteLink,
    FoEnvironment,
    PlatformEnvironment,
    TableMapState,
    User,
    utcnow,
)
from dualwrite.errors import ERR
from dualwrite.lifecycle.appusers import orchestration_installed
from dualwrite.lifecycle.environments import require_writable
from dualwrite.link.fieldedits import FieldEdits, edited_solution, stored_edits
from dualwrite.maps.defaults import default_solution_texts
from dualwrite.maps.loader import load_solution_text
from dualwrite.maps.model import Solution, TableMap
from dualwrite.maps.validate import validate
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind
from dualwrite.stores import dataverse, fo
from dualwrite.stores.datastore import legal_entities

MAX_LEGAL_ENTITIES = 250  # Microsoft's live-sync limit per link
MAX_SOLUTION_BYTES = 1_000_000  # an uploaded solution file; the shipped ones are a few kB


def is_tenant_admin(actor: User, tenant_id: int) -> bool:
    return actor.tenant_id == tenant_id and actor.has_role(DirectoryRole.GLOBAL_ADMIN)


def require_tenant_admin(actor: User, tenant_id: int, action: str) -> None:
    """Seed 002: linking environments and creating maps need a tenant admin, or 403
    (tokenexchange) with the session and root activity IDs."""
    if not is_tenant_admin(actor, tenant_id):
        raise token_exchange_denied(actor, action)


def chosen_legal_entities(env: FoEnvironment, companies: Sequence[str]) -> list[str]:
    """The link's legal entities: at least one, at most 250, all in the F&O environment."""
    available = {e.id for e in legal_entities(env.data_store_url)}
    chosen = list(dict.fromkeys(c.strip().upper() for c in companies if c.strip()))
    unknown = [c for c in chosen if c not in available]
    if unknown:
        problem = f"{', '.join(unknown)} not in environment '{env.name}'"
    elif not chosen:
        problem = "choose at least one"
    elif len(chosen) > MAX_LEGAL_ENTITIES:
        problem = f"{len(chosen)} chosen; a link takes at most {MAX_LEGAL_ENTITIES}"
    else:
        return chosen
    raise ERR.INVALID_INPUT.error(field="legal entities", problem=problem)


def find_link(session: Session, env: FoEnvironment) -> DualWriteLink | None:
    return session.scalar(select(DualWriteLink).where(DualWriteLink.fo_environment_id == env.id))


def require_linkable(
    session: Session, env: FoEnvironment, platform_env: PlatformEnvironment
) -> None:
    """One link per F&O environment and per Dataverse; only an environment with Dataverse."""
    if not platform_env.has_dataverse or not platform_env.dataverse_url:
        raise ERR.NO_DATAVERSE.error(name=platform_env.name)
    existing = find_link(session, env)
    if existing is not None:
        raise ERR.ALREADY_LINKED.error(name=env.name, platform=existing.platform_environment.name)
    other = session.scalar(
        select(DualWriteLink).where(DualWriteLink.platform_environment_id == platform_env.id)
    )
    if other is not None:
        raise ERR.DATAVERSE_TAKEN.error(platform=platform_env.name, other=other.fo_environment.name)


def insert_link(
    session: Session,
    actor: User,
    env: FoEnvironment,
    platform_env: PlatformEnvironment,
    companies: Sequence[str],
) -> DualWriteLink:
    """Store the link; callers have authorized and checked it (wizard, Lifecycle Services)."""
    require_linkable(session, env, platform_env)
    link = DualWriteLink(
        fo_environment=env,
        platform_environment=platform_env,
        legal_entities=",".join(chosen_legal_entities(env, companies)),
        created_by_id=actor.id,
    )
    session.add(link)
    session.flush()
    activity.record(
        session,
        env,
        ActivityKind.CONFIGURATION,
        f"Linked to {platform_env.name} for {', '.join(link.legal_entity_ids)}",
        actor,
    )
    return link


def get_link(session: Session, env: FoEnvironment) -> DualWriteLink:
    link = find_link(session, env)
    if link is None:
        raise ERR.NOT_LINKED.error(name=env.name)
    return link


def solutions_of(link: DualWriteLink) -> list[Solution]:
    return [load_solution_text(s.definition, s.source) for s in link.solutions]


def link_maps(link: DualWriteLink, edits: FieldEdits | None = None) -> list[TableMap]:
    """The link's published maps in dependency order, rebuilt from the stored definitions with
    the field mappings edited on the link (or `edits`), validated together."""
    changed = stored_edits(link) if edits is None else edits
    solutions = [edited_solution(s, changed) for s in solutions_of(link)]
    return validate(solutions, fo.metadata, dataverse.metadata)


def publish_solutions(
    session: Session,
    link: DualWriteLink,
    texts: Sequence[tuple[str, str]],
    actor: User | None = None,
) -> list[TableMapState]:
    """Validate solutions (source name, TOML text) together with what is already applied, store
    them, and publish their maps as Not running. Re-applying a solution updates it."""
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
            stored.applied_at = utcnow()  # also tells the sync worker to rebuild its maps
    existing = {m.name for m in link.table_maps}
    for solution in new:
        added = [t.name for t in solution.maps if t.name not in existing]
        for name in added:
            link.table_maps.append(TableMapState(name=name, solution=solution.name))
        message = f"Applied solution {solution.name} {solution.version}"
        message += f": published {', '.join(added)}" if added else ": maps updated"
        activity.record(session, link.fo_environment_id, ActivityKind.CONFIGURATION, message, actor)
    session.flush()
    return list(link.table_maps)


def _require_orchestration(session: Session, link: DualWriteLink) -> None:
    if not orchestration_installed(session, link.platform_environment):
        raise ERR.DUALWRITE_APP_MISSING.error(
            name=link.fo_environment.name, platform=link.platform_environment.name
        )


def _require_map_author(actor: User, link: DualWriteLink) -> None:
    if not is_tenant_admin(actor, link.fo_environment.project.tenant_id):
        raise ERR.UNAUTHORIZED_MAP.error()


def add_table_maps(
    session: Session, actor: User, link: DualWriteLink, texts: Sequence[tuple[str, str]]
) -> list[TableMapState]:
    """Add new table maps from solution files: only a tenant admin (seed 002: 401 otherwise)."""
    _require_map_author(actor, link)
    require_writable(link.fo_environment)
    return publish_solutions(session, link, texts, actor)


def add_table_maps_from_file(
    session: Session, actor: User, link: DualWriteLink, filename: str, data: bytes
) -> list[TableMapState]:
    """An uploaded solution file (the Dual-write page): who may add maps is checked before
    anything about the file is said; then it must be UTF-8 TOML of at most 1 MB."""
    _require_map_author(actor, link)
    source = Path(filename.replace("\\", "/")).name[:200] or "uploaded solution"
    if not data:
        raise ERR.INVALID_INPUT.error(field="solution file", problem="choose a TOML file")
    if len(data) > MAX_SOLUTION_BYTES:
        problem = f"{source} is larger than {MAX_SOLUTION_BYTES // 1_000_000} MB"
        raise ERR.INVALID_INPUT.error(field="solution file", problem=problem)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        problem = f"{source} is not UTF-8 text"
        raise ERR.INVALID_INPUT.error(field="solution file", problem=problem) from None
    return add_table_maps(session, actor, link, [(source, text)])


def apply_default_solutions(
    session: Session, actor: User, link: DualWriteLink
) -> list[TableMapState]:
    """Seed 000's Apply Solution: publish the orchestration solution's default table maps, once
    the dual-write application has installed it into the Dataverse."""
    require_tenant_admin(actor, link.fo_environment.project.tenant_id, "Creating table maps")
    require_writable(link.fo_environment)
    _require_orchestration(session, link)
    return publish_solutions(session, link, default_solution_texts(), actor)
