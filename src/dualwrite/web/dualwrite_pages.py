"""Finance and operations pages: Workspaces > Data management > Dual Write tile > the Dual-write
page (link wizard, table maps with Run/Pause/Resume/Stop, Apply Solution) and map details
(field mappings, queued records with Load more, errors with retry)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dualwrite.api.deps import SessionDep
from dualwrite.control.models import DualWriteLink, User
from dualwrite.errors import ERR
from dualwrite.identity.authz import is_operator
from dualwrite.lifecycle import environments
from dualwrite.link import fieldmappings, links, overview, tablemaps, wizard
from dualwrite.ops import activity, alerts, health, initialsync
from dualwrite.ops.activity import ActivityFilter
from dualwrite.ops.errorlog import inspect_error
from dualwrite.platform import environments as platform
from dualwrite.schemas import (
    CheckRead,
    EnvironmentRead,
    LinkRead,
    PlatformEnvironmentRead,
    TransformWrite,
)
from dualwrite.stores.datastore import legal_entities
from dualwrite.web.common import FormUser, PageUser, back_to, render

router = APIRouter(include_in_schema=False)
ACTIONS = ("run", "pause", "resume", "stop")


@router.get("/fo")
def workspaces(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Workspaces > Data management: one Dual Write tile per environment you can see."""
    envs = [EnvironmentRead.of(e) for e in environments.list_environments(session, user)]
    return render(request, "fo.html", user, environments=envs)


@router.get("/environments/{env}/dualwrite")
def dualwrite_page(request: Request, env: str, session: SessionDep, user: PageUser) -> Response:
    fo_env = environments.get_environment(session, user, env)
    link = links.find_link(session, fo_env)
    return render(
        request,
        "dualwrite.html",
        user,
        env=EnvironmentRead.of(fo_env),
        link=LinkRead.of(link) if link else None,
        maps=overview.describe_maps(link) if link else [],
        may_operate=tablemaps.may_operate(user, link) if link else False,
        recent=activity.list_activity(session, fo_env, ActivityFilter(limit=10)),
        service=health.service_health(session),
        may_restart=is_operator(user),
    )


@router.post("/service/restart")
def restart_service(request: Request, session: SessionDep, user: FormUser) -> Response:
    health.request_restart(session, user)
    referer = request.headers.get("referer", "/fo")
    return back_to(referer if referer.startswith(str(request.base_url)) else "/fo")


@router.post("/environments/{env}/dualwrite/apply-solution")
def apply_solution(env: str, session: SessionDep, user: FormUser) -> Response:
    link = links.get_link(session, environments.get_environment(session, user, env))
    links.apply_default_solutions(session, user, link)
    return back_to(f"/environments/{env}/dualwrite")


@router.post("/environments/{env}/dualwrite/maps")
def act_on_maps(
    env: str,
    session: SessionDep,
    user: FormUser,
    action: Annotated[str, Form()] = "",
    maps: Annotated[list[str] | None, Form()] = None,
    initial_sync: Annotated[str, Form()] = "",
    master: Annotated[str, Form()] = "fo",
) -> Response:
    """The page's multi-select: Run (with initial sync options), Pause, Resume or Stop."""
    link = links.get_link(session, environments.get_environment(session, user, env))
    if not maps:
        raise ERR.INVALID_INPUT.error(field="table maps", problem="select at least one")
    if action == "run":
        tablemaps.run_maps(
            session, user, link, maps, initial_sync=initial_sync == "yes", master=master
        )
    elif action == "pause":
        tablemaps.pause_maps(session, user, link, maps)
    elif action == "resume":
        tablemaps.resume_maps(session, user, link, maps)
    elif action == "stop":
        tablemaps.stop_maps(session, user, link, maps)
    else:
        raise ERR.INVALID_INPUT.error(field="action", problem=f"'{action}' is not one of {ACTIONS}")
    return back_to(f"/environments/{env}/dualwrite")


def _link_of(session: Session, user: User, env: str) -> DualWriteLink:
    return links.get_link(session, environments.get_environment(session, user, env))


@router.get("/environments/{env}/dualwrite/maps/{name}")
def map_page(
    request: Request,
    env: str,
    name: str,
    session: SessionDep,
    user: PageUser,
    after: int | None = None,
    before: int | None = None,
) -> Response:
    link = _link_of(session, user, env)
    described = next((m for m in overview.describe_maps(link) if m.name == name), None)
    if described is None:
        raise ERR.NO_MAPS.error(name=name)
    queued = overview.queued_records(link, name, after, 25)
    return render(
        request,
        "map.html",
        user,
        env=EnvironmentRead.of(link.fo_environment),
        tmap=described,
        fields=fieldmappings.field_mappings(link, name),
        queued=queued,
        next_after=queued[-1].position if len(queued) == 25 else None,
        errors=overview.list_errors(link, name),
        may_operate=tablemaps.may_operate(user, link),
        is_tenant_admin=links.is_tenant_admin(user, link.fo_environment.project.tenant_id),
        alert=next((a for a in alerts.alerts_of(session, link) if a.map_name == name), None),
        initial=initialsync.initial_sync_read(session, link, name),
        entries=activity.list_activity(
            session, link.fo_environment, ActivityFilter(map_name=name, before=before, limit=25)
        ),
    )


@router.post("/environments/{env}/dualwrite/maps/{name}/rerun")
def rerun_initial_sync(env: str, name: str, session: SessionDep, user: FormUser) -> Response:
    initialsync.rerun_execution(session, user, _link_of(session, user, env), name)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.post("/environments/{env}/dualwrite/maps/{name}/fields")
def edit_field(
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    dataverse_field: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "",
) -> Response:
    link = _link_of(session, user, env)
    fieldmappings.set_field_direction(session, user, link, name, dataverse_field, direction)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.post("/environments/{env}/dualwrite/maps/{name}/transform")
def edit_transform(
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    dataverse_field: Annotated[str, Form()] = "",
    default: Annotated[str, Form()] = "",
    value_map: Annotated[str, Form()] = "",
    unmatched_dataverse: Annotated[str, Form()] = "",
    unmatched_fo: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    """The transform form: one value map pair per line, "F&O value = Dataverse value"."""
    body = None
    if action != "reset":
        lines = [(i, line) for i, line in enumerate(value_map.splitlines(), 1) if line.strip()]
        body = TransformWrite(
            default=default or None,
            value_map=[fieldmappings.parse_pair(line, f"value map line {i}") for i, line in lines],
            unmatched_dataverse=unmatched_dataverse or None,
            unmatched_fo=unmatched_fo or None,
        )
    link = _link_of(session, user, env)
    fieldmappings.set_field_transform(session, user, link, name, dataverse_field, body)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.post("/environments/{env}/dualwrite/maps/{name}/discard")
def discard_error(
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    error_id: Annotated[int, Form()] = 0,
    reason: Annotated[str, Form()] = "",
) -> Response:
    tablemaps.discard_error(session, user, _link_of(session, user, env), name, error_id, reason)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.get("/environments/{env}/dualwrite/errors/{error_id}")
def error_page(
    request: Request,
    env: str,
    error_id: int,
    session: SessionDep,
    user: PageUser,
    direction: str | None = None,
) -> Response:
    """One error of the error log with both sides' records, field by field (who may see the
    map's errors may see this; who may operate it gets Retry and Discard)."""
    link = _link_of(session, user, env)
    return render(
        request,
        "sync_error.html",
        user,
        env=EnvironmentRead.of(link.fo_environment),
        error=inspect_error(link, error_id, direction),
        may_operate=tablemaps.may_operate(user, link),
    )


@router.post("/environments/{env}/dualwrite/maps/{name}/alert")
def set_alert(
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    max_errors: Annotated[int, Form()] = 5,
    window_minutes: Annotated[int, Form()] = 10,
    action: Annotated[str, Form()] = "notify",
) -> Response:
    link = _link_of(session, user, env)
    alerts.set_alert(
        session,
        user,
        link,
        name,
        max_errors=max_errors,
        window_minutes=window_minutes,
        action=action,
    )
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.post("/environments/{env}/dualwrite/maps/{name}/force-stop")
def force_stop(
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    reason: Annotated[str, Form()] = "",
) -> Response:
    tablemaps.force_not_running(session, user, _link_of(session, user, env), [name], reason)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.post("/environments/{env}/dualwrite/maps/{name}/retry")
def retry(
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    error_id: Annotated[int | None, Form()] = None,
) -> Response:
    tablemaps.retry_map_errors(session, user, _link_of(session, user, env), name, error_id)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


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
