"""Finance and operations pages: Workspaces > Data management > Dual Write tile > the Dual-write
page (link wizard, table maps with Run/Pause/Resume/Stop and Force Not running, Apply Solution,
adding table maps from a solution file). A data store that does not answer is shown on the page,
which keeps what needs no data store working (seed 002). Map details: web/map_pages.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dualwrite.api.deps import SessionDep
from dualwrite.control.models import User
from dualwrite.errors import ERR, DualWriteError
from dualwrite.identity.authz import is_operator
from dualwrite.lifecycle import environments
from dualwrite.link import availability, links, overview, tablemaps, wizard
from dualwrite.ops import activity, health, workers
from dualwrite.ops.activity import ActivityFilter
from dualwrite.platform import environments as platform
from dualwrite.schemas import (
    CheckRead,
    EnvironmentRead,
    LinkRead,
    PlatformEnvironmentRead,
)
from dualwrite.stores.datastore import legal_entities
from dualwrite.web.common import FormUser, PageUser, attempt, back_to, render
from dualwrite.web.link_views import outage_reads, shown_error, shown_maps

router = APIRouter(include_in_schema=False)
ACTIONS = ("run", "pause", "resume", "stop", "force-stop")


@router.get("/fo")
def workspaces(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Workspaces > Data management: one Dual Write tile per environment you can see."""
    envs = [EnvironmentRead.of(e) for e in environments.list_environments(session, user)]
    return render(request, "fo.html", user, environments=envs)


def _page(
    request: Request, session: Session, user: User, env: str, error: DualWriteError | None = None
) -> Response:
    """The Dual-write page; after a refused form, with its error inline (and its status)."""
    fo_env = environments.get_environment(session, user, env)
    link = links.find_link(session, fo_env)
    outages = availability.check(session, link) if link else []
    maps = shown_maps(user, link, overview.describe_maps(link, outages)) if link else []
    tenant_admin = links.is_tenant_admin(user, fo_env.project.tenant_id)
    return render(
        request,
        "dualwrite.html",
        user,
        status=error.status if error else 200,
        env=EnvironmentRead.of(fo_env),
        link=LinkRead.of(link) if link else None,
        maps=maps,
        outages=outage_reads(user, link, outages) if link else [],
        error=shown_error(user, link, error),
        may_operate=tablemaps.may_operate(user, link) if link else False,
        is_tenant_admin=tenant_admin,
        recent=activity.list_activity(session, fo_env, ActivityFilter(limit=10)),
        service=health.service_health(session),
        may_restart=is_operator(user),
        workers=workers.list_workers(session, user, link.id) if link and is_operator(user) else [],
    )


@router.get("/environments/{env}/dualwrite")
def dualwrite_page(request: Request, env: str, session: SessionDep, user: PageUser) -> Response:
    return _page(request, session, user, env)


@router.post("/service/restart")
def restart_service(request: Request, session: SessionDep, user: FormUser) -> Response:
    health.request_restart(session, user)
    referer = request.headers.get("referer", "/fo")
    return back_to(referer if referer.startswith(str(request.base_url)) else "/fo")


@router.post("/environments/{env}/dualwrite/apply-solution")
def apply_solution(request: Request, env: str, session: SessionDep, user: FormUser) -> Response:
    link = links.get_link(session, environments.get_environment(session, user, env))
    error = attempt(session, lambda: links.apply_default_solutions(session, user, link))
    return _page(request, session, user, env, error) if error else back_to(_path(env))


@router.post("/environments/{env}/dualwrite/solutions")
def add_table_maps(
    request: Request,
    env: str,
    session: SessionDep,
    user: FormUser,
    solution: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Add table maps from an uploaded solution file, as `link apply-solution --file` does."""
    link = links.get_link(session, environments.get_environment(session, user, env))
    name = (solution.filename or "") if solution else ""
    data = solution.file.read(links.MAX_SOLUTION_BYTES + 1) if solution else b""
    error = attempt(
        session, lambda: links.add_table_maps_from_file(session, user, link, name, data)
    )
    return _page(request, session, user, env, error) if error else back_to(_path(env))


@router.post("/environments/{env}/dualwrite/maps")
def act_on_maps(
    request: Request,
    env: str,
    session: SessionDep,
    user: FormUser,
    action: Annotated[str, Form()] = "",
    maps: Annotated[list[str] | None, Form()] = None,
    initial_sync: Annotated[str, Form()] = "",
    master: Annotated[str, Form()] = "fo",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """The page's multi-select: Run (with initial sync options), Pause, Resume, Stop, and Force
    Not running (tenant admins, with a reason). A refused one shows on the page, e.g. seed
    002's 403 when Stop cannot reach the Dataverse."""
    link = links.get_link(session, environments.get_environment(session, user, env))
    names = maps or []

    def act() -> None:
        if not names:
            raise ERR.INVALID_INPUT.error(field="table maps", problem="select at least one")
        if action == "run":
            tablemaps.run_maps(
                session, user, link, names, initial_sync=initial_sync == "yes", master=master
            )
        elif action == "pause":
            tablemaps.pause_maps(session, user, link, names)
        elif action == "resume":
            tablemaps.resume_maps(session, user, link, names)
        elif action == "stop":
            tablemaps.stop_maps(session, user, link, names)
        elif action == "force-stop":
            tablemaps.force_not_running(session, user, link, names, reason)
        else:
            raise ERR.INVALID_INPUT.error(
                field="action", problem=f"'{action}' is not one of {ACTIONS}"
            )

    error = attempt(session, act)
    return _page(request, session, user, env, error) if error else back_to(_path(env))


def _path(env: str) -> str:
    return f"/environments/{env}/dualwrite"


@router.get("/environments/{env}/dualwrite/wizard")
def wizard_page(
    request: Request,
    env: str,
    session: SessionDep,
    user: PageUser,
    dataverse: str | None = None,
) -> Response:
    """Step 1 (choose environment) and step 2 (legal entities)."""
    fo_env = environments.get_environment(session, user, env)
    chosen = platform.get_environment(session, user, dataverse) if dataverse else None
    return render(
        request,
        "wizard.html",
        user,
        env=EnvironmentRead.of(fo_env),
        step=2 if chosen else 1,
        choices=[PlatformEnvironmentRead.of(e) for e in wizard.wizard_environments(session, user)],
        chosen=PlatformEnvironmentRead.of(chosen) if chosen else None,
        companies=legal_entities(fo_env.data_store_url) if chosen else [],
    )


@router.post("/environments/{env}/dualwrite/wizard/check")
def wizard_check(
    request: Request,
    env: str,
    session: SessionDep,
    user: FormUser,
    dataverse: Annotated[str, Form()] = "",
    legal_entities_: Annotated[list[str] | None, Form(alias="legal_entities")] = None,
) -> Response:
    """Step 3, the health check (Rerun posts here again); step 4 once every check passes."""
    fo_env = environments.get_environment(session, user, env)
    target = platform.get_environment(session, user, dataverse)
    chosen = legal_entities_ or []
    checks = [CheckRead.of(c) for c in wizard.health_check(session, user, fo_env, target, chosen)]
    return render(
        request,
        "wizard.html",
        user,
        env=EnvironmentRead.of(fo_env),
        step=4 if all(c.passed for c in checks) else 3,
        chosen=PlatformEnvironmentRead.of(target),
        selected=chosen,
        checks=checks,
        privacy_notice=wizard.PRIVACY_NOTICE,
    )


@router.post("/environments/{env}/dualwrite/wizard/create")
def wizard_create(
    env: str,
    session: SessionDep,
    user: FormUser,
    dataverse: Annotated[str, Form()] = "",
    legal_entities_: Annotated[list[str] | None, Form(alias="legal_entities")] = None,
    consent: Annotated[str, Form()] = "",
) -> Response:
    fo_env = environments.get_environment(session, user, env)
    target = platform.get_environment(session, user, dataverse)
    wizard.create_link(
        session, user, fo_env, target, legal_entities_ or [], consent=consent == "yes"
    )
    return back_to(f"/environments/{env}/dualwrite")
