"""Power Platform admin pages: environments (geography, Dataverse, admins), capacity, settings
(governance), and users with their directory roles (Global administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dualwrite.api.deps import SessionDep
from dualwrite.control.models import DirectoryRole
from dualwrite.identity import directory
from dualwrite.identity.authz import require_global_admin
from dualwrite.platform import environments as platform
from dualwrite.schemas import PlatformEnvironmentRead, UserRead
from dualwrite.web.common import FormUser, PageUser, back_to, render

router = APIRouter(include_in_schema=False)


@router.get("/platform")
def platform_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    tenant = user.tenant
    is_global = user.has_role(DirectoryRole.GLOBAL_ADMIN)
    return render(
        request,
        "platform.html",
        user,
        environments=[
            PlatformEnvironmentRead.of(e) for e in platform.list_environments(session, user)
        ],
        capacity=platform.capacity(session, tenant),
        tenant=tenant,
        may_change_settings=user.has_role(
            DirectoryRole.GLOBAL_ADMIN, DirectoryRole.POWER_PLATFORM_ADMIN
        ),
        users=[UserRead.of(u) for u in directory.list_users(session, user)] if is_global else None,
        roles=[r.value for r in DirectoryRole],
    )


@router.post("/platform/settings")
def change_settings(
    session: SessionDep,
    user: FormUser,
    everyone_can_create: Annotated[str, Form()] = "",
    capacity_gb: Annotated[float | None, Form(ge=0, allow_inf_nan=False)] = None,
) -> Response:
    directory.update_tenant_settings(
        session,
        user,
        user.tenant,
        everyone_can_create_environments=everyone_can_create == "yes",
        database_capacity_gb=capacity_gb,
    )
    return back_to("/platform")


@router.post("/platform/roles")
def grant_role(
    session: SessionDep,
    user: FormUser,
    upn: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """Directory roles are granted by Global administrators only."""
    require_global_admin(user, user.tenant_id, "Granting directory roles")
    directory.assign_role(session, user, upn, role)
    return back_to("/platform#users")


@router.get("/platform/{name}")
def platform_environment(
    request: Request, name: str, session: SessionDep, user: PageUser
) -> Response:
    env = platform.get_environment(session, user, name)
    return render(request, "platform_env.html", user, env=PlatformEnvironmentRead.of(env))
