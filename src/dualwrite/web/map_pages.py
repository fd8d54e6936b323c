"""A table map's page (field mappings, initial sync executions, queued records with Load more,
errors with retry and discard, alert settings, activity, Force Not running) and an error's
details. What needs a data store shows as unavailable while one does not answer (seed 002);
a refused form shows its error on the map page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dualwrite.api.deps import SessionDep
from dualwrite.control.models import DualWriteLink, User
from dualwrite.errors import ERR, DualWriteError
from dualwrite.lifecycle import environments
from dualwrite.link import availability, fieldmappings, links, overview, tablemaps
from dualwrite.ops import activity, alerts, initialsync
from dualwrite.ops.activity import ActivityFilter
from dualwrite.ops.errorlog import inspect_error
from dualwrite.schemas import EnvironmentRead, TransformWrite
from dualwrite.web.common import FormUser, PageUser, attempt, back_to, render
from dualwrite.web.link_views import outage_reads, shown_error, shown_maps

router = APIRouter(include_in_schema=False)
PAGE = 25


def _link_of(session: Session, user: User, env: str) -> DualWriteLink:
    return links.get_link(session, environments.get_environment(session, user, env))


def _page(
    request: Request,
    session: Session,
    user: User,
    link: DualWriteLink,
    name: str,
    after: int | None = None,
    before: int | None = None,
    error: DualWriteError | None = None,
) -> Response:
    outages = availability.check(session, link)
    described = next((m for m in overview.describe_maps(link, outages) if m.name == name), None)
    if described is None:
        raise ERR.NO_MAPS.error(name=name)
    reachable = not outages  # queued records and errors live in the data stores
    queued = overview.queued_records(link, name, after, PAGE) if reachable else None
    return render(
        request,
        "map.html",
        user,
        status=error.status if error else 200,
        env=EnvironmentRead.of(link.fo_environment),
        tmap=shown_maps(user, link, [described])[0],
        outages=outage_reads(user, link, outages),
        error=shown_error(user, link, error),
        fields=fieldmappings.field_mappings(link, name),
        queued=queued,
        next_after=queued[-1].position if queued and len(queued) == PAGE else None,
        errors=overview.list_errors(link, name) if reachable else None,
        may_operate=tablemaps.may_operate(user, link),
        is_tenant_admin=links.is_tenant_admin(user, link.fo_environment.project.tenant_id),
        alert=next((a for a in alerts.alerts_of(session, link) if a.map_name == name), None),
        initial=initialsync.initial_sync_read(session, link, name, failed_records=reachable),
        entries=activity.list_activity(
            session, link.fo_environment, ActivityFilter(map_name=name, before=before, limit=PAGE)
        ),
    )


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
    return _page(request, session, user, _link_of(session, user, env), name, after, before)


def _act(
    request: Request,
    session: Session,
    user: User,
    env: str,
    name: str,
    action: Callable[[DualWriteLink], object],
) -> Response:
    """A map page form: its service call, then the page again (with the error if refused)."""
    link = _link_of(session, user, env)
    error = attempt(session, lambda: action(link))
    if error is not None:
        return _page(request, session, user, link, name, error=error)
    return back_to(f"/environments/{env}/dualwrite/maps/{name}")


@router.post("/environments/{env}/dualwrite/maps/{name}/rerun")
def rerun_initial_sync(
    request: Request, env: str, name: str, session: SessionDep, user: FormUser
) -> Response:
    def rerun(link: DualWriteLink) -> object:
        return initialsync.rerun_execution(session, user, link, name)

    return _act(request, session, user, env, name, rerun)


@router.post("/environments/{env}/dualwrite/maps/{name}/fields")
def edit_field(
    request: Request,
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    dataverse_field: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "",
) -> Response:
    def edit(link: DualWriteLink) -> object:
        return fieldmappings.set_field_direction(
            session, user, link, name, dataverse_field, direction
        )

    return _act(request, session, user, env, name, edit)


@router.post("/environments/{env}/dualwrite/maps/{name}/transform")
def edit_transform(
    request: Request,
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

    def edit(link: DualWriteLink) -> object:
        body = None
        if action != "reset":
            lines = [(i, line) for i, line in enumerate(value_map.splitlines(), 1) if line.strip()]
            body = TransformWrite(
                default=default or None,
                value_map=[
                    fieldmappings.parse_pair(line, f"value map line {i}") for i, line in lines
                ],
                unmatched_dataverse=unmatched_dataverse or None,
                unmatched_fo=unmatched_fo or None,
            )
        return fieldmappings.set_field_transform(session, user, link, name, dataverse_field, body)

    return _act(request, session, user, env, name, edit)


@router.post("/environments/{env}/dualwrite/maps/{name}/discard")
def discard_error(
    request: Request,
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    error_id: Annotated[int, Form()] = 0,
    reason: Annotated[str, Form()] = "",
) -> Response:
    def discard(link: DualWriteLink) -> object:
        tablemaps.discard_error(session, user, link, name, error_id, reason)
        return None

    return _act(request, session, user, env, name, discard)


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
    request: Request,
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    max_errors: Annotated[int, Form()] = 5,
    window_minutes: Annotated[int, Form()] = 10,
    action: Annotated[str, Form()] = "notify",
) -> Response:
    def save(link: DualWriteLink) -> object:
        return alerts.set_alert(
            session,
            user,
            link,
            name,
            max_errors=max_errors,
            window_minutes=window_minutes,
            action=action,
        )

    return _act(request, session, user, env, name, save)


@router.post("/environments/{env}/dualwrite/maps/{name}/force-stop")
def force_stop(
    request: Request,
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Needs no data store: what seed 002 needed a support ticket for."""

    def force(link: DualWriteLink) -> object:
        tablemaps.force_not_running(session, user, link, [name], reason)
        return None

    return _act(request, session, user, env, name, force)


@router.post("/environments/{env}/dualwrite/maps/{name}/retry")
def retry(
    request: Request,
    env: str,
    name: str,
    session: SessionDep,
    user: FormUser,
    error_id: Annotated[int | None, Form()] = None,
) -> Response:
    def again(link: DualWriteLink) -> object:
        return tablemaps.retry_map_errors(session, user, link, name, error_id)

    return _act(request, session, user, env, name, again)
