"""Lifecycle Services pages: projects and environments, and the environment details page with
its Power Platform Integration section (Setup dialog, Dual-write application, Link to Power
Platform environment, jobs, linking mismatch)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dualwrite.api.deps import SessionDep, SettingsDep, request_base
from dualwrite.checks import Check
from dualwrite.control.models import FoEnvironment, User
from dualwrite.identity import environment_access
from dualwrite.identity.resources import api_root, resource_url
from dualwrite.identity_schemas import AppUserRead
from dualwrite.lifecycle import dualwrite_app, environments, linking, ppi, projects
from dualwrite.lifecycle.details import environment_detail
from dualwrite.platform import environments as platform
from dualwrite.schemas import CheckRead, EnvironmentRead
from dualwrite.web.common import FormUser, PageUser, back_to, render

router = APIRouter(include_in_schema=False)


@router.get("/lcs")
def lcs_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    rows = [
        (p, [EnvironmentRead.of(e) for e in environments.list_environments(session, user, p)])
        for p in projects.list_projects(session, user)
    ]
    granted = [
        EnvironmentRead.of(e)
        for e in environments.list_environments(session, user)
        if e.project not in [p for p, _ in rows]
    ]
    return render(request, "lcs.html", user, projects=rows, granted=granted)


def _details(
    request: Request,
    session: Session,
    user: User,
    env: FoEnvironment,
    checks: list[Check] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    detail = environment_detail(session, env)
    section = detail.power_platform_integration
    running = any(j.state in ("queued", "running") for j in section.jobs)
    return render(
        request,
        "environment.html",
        user,
        env=detail,
        section=section,
        candidates=[
            e.name
            for e in platform.list_environments(session, user)
            if e.has_dataverse and e.id != section.platform_environment_id
        ],
        checks=[CheckRead.of(c) for c in checks] if checks is not None else None,
        form=form or {},
        running=running,
        terms=dualwrite_app.TERMS,
        env_users=[(u.user.upn, u.role.value) for u in env.users],
        api=_api(request, session, env),
    )


def _api(request: Request, session: Session, env: FoEnvironment) -> dict[str, object]:
    """Where the environment's OData is and who calls it as an application."""
    base = request_base(request)
    return {
        "resource": resource_url(base, env),
        "odata": api_root(base, env),
        "app_users": [
            AppUserRead.of(e, env.name, "fo")
            for e in environment_access.application_users(session, env)
        ],
    }


@router.get("/environments/{env}")
def environment_page(request: Request, env: str, session: SessionDep, user: PageUser) -> Response:
    return _details(request, session, user, environments.get_environment(session, user, env))


def _setup_request(
    use_existing: str, platform_environment: str, confirm_name: str = ""
) -> ppi.SetupRequest:
    existing = use_existing == "yes"
    return ppi.SetupRequest(
        use_existing=existing,
        platform_environment=platform_environment or None if existing else None,
        confirm_name=confirm_name or None,
    )


@router.post("/environments/{env}/ppi/validate")
def validate_setup(
    request: Request,
    env: str,
    session: SessionDep,
    user: FormUser,
    use_existing: Annotated[str, Form()] = "no",
    platform_environment: Annotated[str, Form()] = "",
) -> Response:
    """The Setup dialog's validation results, shown on the page; nothing changes."""
    fo_env = environments.get_environment(session, user, env)
    checks = ppi.check_setup(
        session, user, fo_env, _setup_request(use_existing, platform_environment)
    )
    form = {"use_existing": use_existing, "platform_environment": platform_environment}
    return _details(request, session, user, fo_env, checks, form)


@router.post("/environments/{env}/ppi/setup")
def setup_integration(
    env: str,
    session: SessionDep,
    settings: SettingsDep,
    user: FormUser,
    use_existing: Annotated[str, Form()] = "no",
    platform_environment: Annotated[str, Form()] = "",
    confirm_name: Annotated[str, Form()] = "",
) -> Response:
    fo_env = environments.get_environment(session, user, env)
    request = _setup_request(use_existing, platform_environment, confirm_name)
    ppi.request_setup(session, settings, user, fo_env, request)
    return back_to(f"/environments/{env}")


@router.post("/environments/{env}/dualwrite-app")
def install_dualwrite_app(
    env: str,
    session: SessionDep,
    user: FormUser,
    accept_terms: Annotated[str, Form()] = "",
) -> Response:
    fo_env = environments.get_environment(session, user, env)
    dualwrite_app.request_install(session, user, fo_env, accept_terms=accept_terms == "yes")
    return back_to(f"/environments/{env}")


@router.post("/environments/{env}/link-platform")
def link_platform(env: str, session: SessionDep, user: FormUser) -> Response:
    linking.request_link(session, user, environments.get_environment(session, user, env))
    return back_to(f"/environments/{env}")


@router.post("/environments/{env}/users")
def grant_role(
    env: str,
    session: SessionDep,
    user: FormUser,
    upn: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "dualwrite-user",
) -> Response:
    fo_env = environments.get_environment(session, user, env)
    environments.grant_environment_role(session, user, fo_env, upn, role)
    return back_to(f"/environments/{env}")
