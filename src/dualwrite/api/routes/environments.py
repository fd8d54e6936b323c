"""Finance and operations environments (LCS) and their data stores."""

from __future__ import annotations

from fastapi import APIRouter, status

from dualwrite.api.deps import CurrentUser, SessionDep, SettingsDep
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.details import environment_detail
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.schemas import EnvironmentCreate, EnvironmentDetail, EnvironmentRead

router = APIRouter(prefix="/environments", tags=["lifecycle"])


@router.get("", response_model=list[EnvironmentRead])
def list_environments(
    session: SessionDep, actor: CurrentUser, project: str | None = None
) -> list[EnvironmentRead]:
    scope = projects.get_project(session, actor, project) if project else None
    return [EnvironmentRead.of(e) for e in environments.list_environments(session, actor, scope)]


@router.post("", response_model=EnvironmentRead, status_code=status.HTTP_201_CREATED)
def deploy_environment(
    body: EnvironmentCreate, session: SessionDep, actor: CurrentUser, settings: SettingsDep
) -> EnvironmentRead:
    spec = EnvironmentSpec(
        name=body.name,
        type=body.type,
        region=body.region,
        legal_entities=body.legal_entities,
        data_store_url=body.data_store_url,
    )
    project = projects.get_project(session, actor, body.project)
    env = environments.deploy_environment(session, settings, actor, project, spec)
    return EnvironmentRead.of(env)


@router.get("/{name}", response_model=EnvironmentDetail)
def show_environment(name: str, session: SessionDep, actor: CurrentUser) -> EnvironmentDetail:
    """The environment with its legal entities and the row count of each data store table."""
    return environment_detail(session, environments.get_environment(session, actor, name))
