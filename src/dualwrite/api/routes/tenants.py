"""Tenants and their Power Platform settings (governance, capacity)."""

from __future__ import annotations

from fastapi import APIRouter, status

from dualwrite.api.deps import CurrentUser, SessionDep
from dualwrite.identity import directory
from dualwrite.platform.environments import capacity
from dualwrite.schemas import CapacityRead, TenantCreate, TenantRead, TenantSettingsUpdate

router = APIRouter(prefix="/tenants", tags=["tenants"])


@router.get("", response_model=list[TenantRead])
def list_tenants(session: SessionDep, actor: CurrentUser) -> list[TenantRead]:
    return [TenantRead.model_validate(t) for t in directory.list_tenants(session, actor)]


@router.post("", response_model=TenantRead, status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, session: SessionDep, actor: CurrentUser) -> TenantRead:
    tenant, _admin = directory.create_tenant(session, actor, **body.model_dump())
    return TenantRead.model_validate(tenant)


@router.get("/{domain}", response_model=TenantRead)
def show_tenant(domain: str, session: SessionDep, actor: CurrentUser) -> TenantRead:
    return TenantRead.model_validate(directory.visible_tenant(session, actor, domain))


@router.patch("/{domain}/settings", response_model=TenantRead)
def update_settings(
    domain: str, body: TenantSettingsUpdate, session: SessionDep, actor: CurrentUser
) -> TenantRead:
    tenant = directory.visible_tenant(session, actor, domain)
    directory.update_tenant_settings(session, actor, tenant, **body.model_dump())
    return TenantRead.model_validate(tenant)


@router.get("/{domain}/capacity", response_model=CapacityRead)
def show_capacity(domain: str, session: SessionDep, actor: CurrentUser) -> CapacityRead:
    found = capacity(session, directory.visible_tenant(session, actor, domain))
    return CapacityRead(total_gb=found.total_gb, used_gb=found.used_gb, free_gb=found.free_gb)
