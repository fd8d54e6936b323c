"""Lifecycle Services projects and their members."""

from __future__ import annotations

from fastapi import APIRouter, status

from dualwrite.api.deps import CurrentUser, SessionDep
from dualwrite.lifecycle import projects
from dualwrite.schemas import MemberChange, ProjectCreate, ProjectRead

router = APIRouter(prefix="/projects", tags=["lifecycle"])


@router.get("", response_model=list[ProjectRead])
def list_projects(session: SessionDep, actor: CurrentUser) -> list[ProjectRead]:
    return [ProjectRead.of(p) for p in projects.list_projects(session, actor)]


@router.post("", response_model=ProjectRead, status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, session: SessionDep, actor: CurrentUser) -> ProjectRead:
    return ProjectRead.of(projects.create_project(session, actor, body.name))


@router.get("/{name}", response_model=ProjectRead)
def show_project(name: str, session: SessionDep, actor: CurrentUser) -> ProjectRead:
    return ProjectRead.of(projects.get_project(session, actor, name))


@router.post("/{name}/members", response_model=ProjectRead)
def add_member(
    name: str, body: MemberChange, session: SessionDep, actor: CurrentUser
) -> ProjectRead:
    project = projects.get_project(session, actor, name)
    projects.add_member(session, actor, project, body.upn, body.role)
    return ProjectRead.of(project)


@router.delete("/{name}/members/{upn}", response_model=ProjectRead)
def remove_member(name: str, upn: str, session: SessionDep, actor: CurrentUser) -> ProjectRead:
    project = projects.get_project(session, actor, name)
    projects.remove_member(session, actor, project, upn)
    return ProjectRead.of(project)
