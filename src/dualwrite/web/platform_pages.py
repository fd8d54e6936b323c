"""Power Platform admin pages: environments (geography, Dataverse, admins), capacity, settings
(governance), registered applications with their client secrets (Global and Power Platform
administrators), users with their directory roles (Global administrators only), and an
environment's page with its Web API URL and application users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dualwrite.api.deps import SessionDep, request_base
from dualwrite.control.models import DirectoryRole, User
from dualwrite.identity import apps, directory, environment_access
from dualwrite.identity.authz import ADMIN_ROLES, require_global_admin
from dualwrite.identity.resources import api_root, resource_url
from dualwrite.identity_schemas import AppUserRead, NewSecretRead, RegisteredAppRead
from dualwrite.platform import environments as platform
from dualwrite.schemas import PlatformEnvironmentRead, UserRead
from dualwrite.web.common import FormUser, PageUser, back_to, render

router = APIRouter(include_in_schema=False)


def _home(
    request: Request,
    session: Session,
    user: User,
    new_secret: NewSecretRead | None = None,
) -> Response:
    """The admin center; after a secret was made, with its value shown (this once)."""
    tenant = user.tenant
    is_global = user.has_role(DirectoryRole.GLOBAL_ADMIN)
    registered = (
        [
            RegisteredAppRead.of(a, apps.dualwrite_pairs(session, a))
            for a in apps.list_applications(session, user)
        ]
        if user.has_role(*ADMIN_ROLES)
        else None
    )
    return render(
        request,
        "platform.html",
        user,
        apps=registered,
        new_secret=new_secret,
        token_endpoint=f"{request_base(request)}/{tenant.directory_id}/oauth2/v2.0/token",
        environments=[
            PlatformEnvironmentRead.of(e) for e in platform.list_environments(session, user)
        ],
        capacity=platform.capacity(session, tenant),
        tenant=tenant,
        may_change_settings=user.has_role(*ADMIN_ROLES),
        users=[UserRead.of(u) for u in directory.list_users(session, user)] if is_global else None,
        roles=[r.value for r in DirectoryRole],
    )


@router.get("/platform")
def platform_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    return _home(request, session, user)


@router.post("/platform/apps")
def register_app(
    request: Request,
    session: SessionDep,
    user: FormUser,
    display_name: Annotated[str, Form()] = "",
) -> Response:
    """The page itself answers (not a redirect): the new secret is on it, and nowhere else."""
    registered, made = apps.create_application(session, user, display_name)
    return _home(request, session, user, NewSecretRead.of(registered, made))


@router.post("/platform/apps/{client_id}/rotate")
def rotate_app_secret(
    request: Request, client_id: str, session: SessionDep, user: FormUser
) -> Response:
    registered = apps.get_application(session, user, client_id)
    made = apps.rotate_secret(session, user, registered)
    return _home(request, session, user, NewSecretRead.of(registered, made))


@router.post("/platform/apps/{client_id}/delete")
def delete_app(client_id: str, session: SessionDep, user: FormUser) -> Response:
    apps.delete_application(session, user, apps.get_application(session, user, client_id))
    return back_to("/platform#apps")


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
    base = request_base(request)
    return render(
        request,
        "platform_env.html",
        user,
        env=PlatformEnvironmentRead.of(env),
        resource=resource_url(base, env) if env.has_dataverse else None,
        web_api=api_root(base, env) if env.has_dataverse else None,
        app_users=[
            AppUserRead.of(e, env.name, "dataverse")
            for e in environment_access.application_users(session, env)
        ],
    )
