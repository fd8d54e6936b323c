"""Lifecycle Services projects and their members (owners, environment managers, team)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DirectoryRole,
    Project,
    ProjectInvitation,
    ProjectMember,
    ProjectRole,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.authz import role_by_name
from dualwrite.identity.directory import valid_upn, visible_user

ENVIRONMENT_ROLES = (ProjectRole.PROJECT_OWNER, ProjectRole.ENVIRONMENT_MANAGER)


def project_role_from_name(name: str | ProjectRole) -> ProjectRole:
    return role_by_name(ProjectRole, name, "project")


def role_in(project: Project, user: User) -> ProjectRole | None:
    """The user's role: as a member, or as the holder of a name invited from another tenant."""
    found = next((m.role for m in project.members if m.user_id == user.id), None)
    return found or next((i.role for i in project.invitations if i.upn == user.upn), None)


def require_project_role(project: Project, actor: User, action: str, *roles: ProjectRole) -> None:
    if role_in(project, actor) in roles:
        return
    names = " or ".join(r.value for r in roles)
    raise ERR.NOT_ALLOWED.error(
        action=action, requirement=f"the {names} role in project '{project.name}'", who=names
    )


def create_project(session: Session, actor: User, name: str) -> Project:
    """A project of the actor's tenant; its creator becomes its Project owner."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ERR.INVALID_INPUT.error(field="project name", problem="must be 1 to 200 characters")
    existing = select(Project).where(Project.tenant_id == actor.tenant_id, Project.name == name)
    if session.scalar(existing):
        raise ERR.DUPLICATE_NAME.error(kind="project", name=name)
    project = Project(tenant_id=actor.tenant_id, name=name)
    project.members.append(ProjectMember(user_id=actor.id, role=ProjectRole.PROJECT_OWNER))
    session.add(project)
    session.flush()
    return project


def visible_projects(actor: User) -> ColumnElement[bool]:
    """Where-clause: projects the actor is a member of (or invited to), or all of its tenant for
    a Global admin."""
    member = or_(
        Project.members.any(ProjectMember.user_id == actor.id),
        Project.invitations.any(ProjectInvitation.upn == actor.upn),
    )
    if actor.has_role(DirectoryRole.GLOBAL_ADMIN):
        return or_(member, Project.tenant_id == actor.tenant_id)
    return member


def list_projects(session: Session, actor: User) -> list[Project]:
    query = select(Project).where(visible_projects(actor)).order_by(Project.name)
    return list(session.scalars(query))


def get_project(session: Session, actor: User, name: str) -> Project:
    query = select(Project).where(Project.name == name.strip(), visible_projects(actor))
    project = session.scalar(query)
    if project is None:
        raise ERR.NOT_FOUND.error(kind="project", name=name, noun="project")
    return project


def _outsider(project: Project, upn: str) -> bool:
    """A name of another tenant's domain (a tenant's users all carry its domain)."""
    return not upn.endswith(f"@{project.tenant.domain}")


def add_member(
    session: Session, actor: User, project: Project, upn: str, role: str | ProjectRole
) -> ProjectMember | ProjectInvitation:
    """Project owners add their tenant's users, and invite others by name (as LCS invites
    partners): an invitation looks the same whether or not such a user exists."""
    require_project_role(project, actor, "Adding a project member", ProjectRole.PROJECT_OWNER)
    wanted = project_role_from_name(role)
    upn = valid_upn(upn)
    if _outsider(project, upn):
        return _invite(session, project, upn, wanted)
    user = visible_user(session, actor, upn)
    member = next((m for m in project.members if m.user_id == user.id), None)
    if member is None:
        member = ProjectMember(user_id=user.id, role=wanted)
        project.members.append(member)
    else:
        member.role = wanted
    session.flush()
    return member


def _invite(
    session: Session, project: Project, upn: str, role: ProjectRole
) -> ProjectMember | ProjectInvitation:
    # A guest made a member before invitations existed keeps that membership.
    legacy = next((m for m in project.members if m.user.upn == upn), None)
    found: ProjectMember | ProjectInvitation | None = legacy or next(
        (i for i in project.invitations if i.upn == upn), None
    )
    if found is None:
        found = ProjectInvitation(upn=upn, role=role)
        project.invitations.append(found)
    found.role = role
    session.flush()
    return found


def remove_member(session: Session, actor: User, project: Project, upn: str) -> None:
    require_project_role(project, actor, "Removing a project member", ProjectRole.PROJECT_OWNER)
    upn = upn.strip().lower()
    owners = [m for m in project.members if m.role is ProjectRole.PROJECT_OWNER]
    if len(owners) == 1 and owners[0].user.upn == upn:
        raise ERR.INVALID_INPUT.error(
            field="member", problem=f"{upn} is the project's last Project owner"
        )
    kept = [m for m in project.members if m.user.upn != upn]
    invited = [i for i in project.invitations if i.upn != upn]
    if len(kept) == len(project.members) and len(invited) == len(project.invitations):
        raise ERR.NOT_FOUND.error(
            kind="project member", name=upn, noun=f"project show '{project.name}'"
        )
    project.members, project.invitations = kept, invited
    session.flush()
