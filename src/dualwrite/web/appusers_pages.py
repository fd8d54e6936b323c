"""Fixing the dual-write application users (DW9003), where the link wizard's health check and
the environment details page link to: the pair's users and whether they can connect, Fix
application users for a tenant administrator (others are told why they cannot), then back to
the health check with the same choices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dualwrite.api.deps import SessionDep
from dualwrite.checks import run_check
from dualwrite.control.models import User
from dualwrite.errors import DualWriteError
from dualwrite.lifecycle import appusers, dualwrite_app, environments
from dualwrite.schemas import ApplicationUserRead, CheckRead, application_users_page_path
from dualwrite.web.common import FormUser, PageUser, attempt, back_to, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: Session,
    user: User,
    env: str,
    dataverse: str,
    companies: list[str],
    error: DualWriteError | None = None,
) -> Response:
    fo_env = environments.get_environment(session, user, env)
    target = dualwrite_app.pair_target(session, user, fo_env, dataverse)
    users = appusers.application_users(session, fo_env, target)
    check = run_check(
        appusers.CHECK_NAME, lambda: appusers.require_service_principal(session, fo_env, target)
    )
    refusal = run_check(appusers.FIX_ACTION, lambda: appusers.require_fixer(user, fo_env))
    return render(
        request,
        "app_users.html",
        user,
        status=error.status if error else 200,
        error=error,
        env=fo_env.name,
        dataverse=target.name,
        companies=companies,
        sides=[
            (side, ApplicationUserRead.of(users[side], target.name) if side in users else None)
            for side in appusers.AppSide
        ],
        check=CheckRead.of(check),
        refusal=refusal.error,
    )


@router.get("/environments/{env}/application-users")
def application_users_page(
    request: Request,
    env: str,
    session: SessionDep,
    user: PageUser,
    dataverse: str = "",
    legal_entities: Annotated[list[str] | None, Query()] = None,  # the wizard's, for its rerun
) -> Response:
    return _page(request, session, user, env, dataverse, legal_entities or [])


@router.post("/environments/{env}/application-users/fix")
def fix_application_users(
    request: Request,
    env: str,
    session: SessionDep,
    user: FormUser,
    dataverse: Annotated[str, Form()] = "",
    legal_entities: Annotated[list[str] | None, Form()] = None,
) -> Response:
    companies = legal_entities or []

    def fix() -> object:
        fo_env = environments.get_environment(session, user, env)
        target = dualwrite_app.pair_target(session, user, fo_env, dataverse)
        return appusers.fix_application_users(session, user, fo_env, target)

    error = attempt(session, fix)
    if error is not None:
        return _page(request, session, user, env, dataverse, companies, error)
    return back_to(application_users_page_path(env, dataverse, companies))
