"""Power Platform environments (with or without Dataverse), their admins, and regions."""

from __future__ import annotations

from fastapi import APIRouter, status

from dualwrite.api.deps import CurrentUser, SessionDep, SettingsDep
from dualwrite.platform import environments as platform
from dualwrite.schemas import (
    AdminChange,
    PlatformEnvironmentCreate,
    PlatformEnvironmentRead,
    RegionRead,
)

router = APIRouter(tags=["power platform"])


@router.get("/platform/environments", response_model=list[PlatformEnvironmentRead])
def list_environments(session: SessionDep, actor: CurrentUser) -> list[PlatformEnvironmentRead]:
    return [PlatformEnvironmentRead.of(e) for e in platform.list_environments(session, actor)]


@router.post(
    "/platform/environments",
    response_model=PlatformEnvironmentRead,
    status_code=status.HTTP_201_CREATED,
)
def create_environment(
    body: PlatformEnvironmentCreate, session: SessionDep, actor: CurrentUser, settings: SettingsDep
) -> PlatformEnvironmentRead:
    env = platform.create_environment(
        session,
        settings,
        actor,
        name=body.name,
        region=body.region,
        dataverse=body.dataverse,
        dataverse_url=body.dataverse_url,
    )
    return PlatformEnvironmentRead.of(env)


@router.get("/platform/environments/{env}", response_model=PlatformEnvironmentRead)
def show_environment(env: str, session: SessionDep, actor: CurrentUser) -> PlatformEnvironmentRead:
    """One environment, by its ID or its name."""
    return PlatformEnvironmentRead.of(platform.get_environment(session, actor, env))


@router.post("/platform/environments/{env}/admins", response_model=PlatformEnvironmentRead)
def add_admin(
    env: str, body: AdminChange, session: SessionDep, actor: CurrentUser
) -> PlatformEnvironmentRead:
    found = platform.get_environment(session, actor, env)
    return PlatformEnvironmentRead.of(platform.add_admin(session, actor, found, body.upn))


@router.get("/regions", response_model=list[RegionRead])
def list_regions(session: SessionDep, _actor: CurrentUser) -> list[RegionRead]:
    return [RegionRead.model_validate(r) for r in platform.regions(session)]
