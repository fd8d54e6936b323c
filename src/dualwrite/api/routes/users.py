"""Users of the signed-in user's tenant, their directory roles and licenses."""

from __future__ import annotations

from fastapi import APIRouter, status

from dualwrite.api.deps import CurrentUser, SessionDep
from dualwrite.identity import directory
from dualwrite.schemas import LicenseChange, LicenseRead, RoleChange, UserCreate, UserRead

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, actor: CurrentUser) -> list[UserRead]:
    return [UserRead.of(u) for u in directory.list_users(session, actor)]


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, actor: CurrentUser) -> UserRead:
    user = directory.create_user(
        session,
        actor,
        upn=body.upn,
        display_name=body.display_name,
        password=body.password,
        roles=body.roles,
        licenses=body.licenses,
    )
    return UserRead.of(user)


@router.get("/users/{upn}", response_model=UserRead)
def show_user(upn: str, session: SessionDep, actor: CurrentUser) -> UserRead:
    return UserRead.of(directory.visible_user(session, actor, upn))


@router.post("/users/{upn}/roles", response_model=UserRead)
def grant_role(upn: str, body: RoleChange, session: SessionDep, actor: CurrentUser) -> UserRead:
    return UserRead.of(directory.assign_role(session, actor, upn, body.role))


@router.delete("/users/{upn}/roles/{role}", response_model=UserRead)
def revoke_role(upn: str, role: str, session: SessionDep, actor: CurrentUser) -> UserRead:
    return UserRead.of(directory.remove_role(session, actor, upn, role))


@router.post("/users/{upn}/licenses", response_model=UserRead)
def assign_license(
    upn: str, body: LicenseChange, session: SessionDep, actor: CurrentUser
) -> UserRead:
    return UserRead.of(directory.assign_license(session, actor, upn, body.sku))


@router.delete("/users/{upn}/licenses/{sku}", response_model=UserRead)
def remove_license(upn: str, sku: str, session: SessionDep, actor: CurrentUser) -> UserRead:
    return UserRead.of(directory.remove_license(session, actor, upn, sku))


@router.get("/licenses", response_model=list[LicenseRead])
def list_licenses(session: SessionDep, _actor: CurrentUser) -> list[LicenseRead]:
    return [LicenseRead.model_validate(lic) for lic in directory.license_catalogue(session)]
