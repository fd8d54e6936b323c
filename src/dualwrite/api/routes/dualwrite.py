"""Dual-write on an F&O environment: the link, applying solutions, table maps, errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy.orm import Session

from dualwrite.api.deps import CurrentUser, SessionDep
from dualwrite.bounds import MAX_BIGINT
from dualwrite.control.models import DualWriteLink, User
from dualwrite.errors import ERR
from dualwrite.lifecycle import environments, linking
from dualwrite.link import fieldmappings, links, overview, tablemaps, wizard
from dualwrite.ops import activity, alerts, initialsync
from dualwrite.ops.activity import ActivityFilter
from dualwrite.ops.errorlog import inspect_error
from dualwrite.ops.initialsync import initial_sync_read
from dualwrite.platform import environments as platform
from dualwrite.schemas import (
    ActivityRead,
    AlertRead,
    AlertSetting,
    CheckRead,
    ErrorDiscard,
    FieldDirection,
    FieldMappingRead,
    ForceStop,
    HealthCheckRequest,
    InitialSyncDetail,
    LinkCreate,
    LinkRead,
    MapAction,
    PlatformEnvironmentRead,
    QueuedRead,
    QueueLimits,
    RetryResult,
    SolutionUpload,
    SyncErrorDetail,
    SyncErrorRead,
    SyncMode,
    TableMapRead,
    TransformWrite,
    WizardRead,
)

router = APIRouter(prefix="/environments/{env}", tags=["dual-write"])
ErrorId = Annotated[int, Path(ge=0, le=MAX_BIGINT, description="The ID in the error log.")]
wizard_router = APIRouter(tags=["dual-write"])

MapOperation = Callable[[Session, User, DualWriteLink, Sequence[str]], None]
_OPERATIONS: dict[str, MapOperation] = {
    "pause": tablemaps.pause_maps,
    "resume": tablemaps.resume_maps,
    "stop": tablemaps.stop_maps,
}


def _link(session: Session, actor: User, env: str) -> DualWriteLink:
    return links.get_link(session, environments.get_environment(session, actor, env))


def _described(link: DualWriteLink, name: str) -> TableMapRead:
    found = next((m for m in overview.describe_maps(link) if m.name == name), None)
    if found is None:
        raise ERR.NO_MAPS.error(name=name)
    return found


@wizard_router.get("/dualwrite/wizard", response_model=WizardRead)
def link_wizard(session: SessionDep, actor: CurrentUser) -> WizardRead:
    """The link wizard: the Dataverse environments you may choose, and the privacy notice."""
    return WizardRead(
        environments=[
            PlatformEnvironmentRead.of(e) for e in wizard.wizard_environments(session, actor)
        ],
        privacy_notice=wizard.PRIVACY_NOTICE,
    )


@router.post("/link/health-check", response_model=list[CheckRead])
def health_check(
    env: str, body: HealthCheckRequest, session: SessionDep, actor: CurrentUser
) -> list[CheckRead]:
    """The wizard's health check: each check passes or fails with its fix; nothing changes."""
    fo_env = environments.get_environment(session, actor, env)
    target = platform.get_environment(session, actor, body.dataverse_environment)
    checks = wizard.health_check(session, actor, fo_env, target, body.legal_entities)
    return [CheckRead.of(c) for c in checks]


@router.post("/link", response_model=LinkRead, status_code=status.HTTP_201_CREATED)
def create_link(env: str, body: LinkCreate, session: SessionDep, actor: CurrentUser) -> LinkRead:
    """The wizard's Create: needs `consent` and a passing health check."""
    fo_env = environments.get_environment(session, actor, env)
    target = platform.get_environment(session, actor, body.dataverse_environment)
    link = wizard.create_link(
        session, actor, fo_env, target, body.legal_entities, consent=body.consent
    )
    return LinkRead.of(link)


@router.delete("/link", status_code=status.HTTP_204_NO_CONTENT)
def reset_link(env: str, session: SessionDep, actor: CurrentUser) -> Response:
    """Reset linking (unlink); every table map must be stopped first."""
    linking.reset_link(session, actor, environments.get_environment(session, actor, env))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/link", response_model=LinkRead)
def show_link(env: str, session: SessionDep, actor: CurrentUser) -> LinkRead:
    return LinkRead.of(_link(session, actor, env))


@router.post("/link/solutions", response_model=list[TableMapRead])
def apply_default_solutions(
    env: str, session: SessionDep, actor: CurrentUser
) -> list[TableMapRead]:
    """Apply Solution: publish the default dual-write table maps."""
    link = _link(session, actor, env)
    links.apply_default_solutions(session, actor, link)
    return overview.describe_maps(link)


@router.post("/maps", response_model=list[TableMapRead], status_code=status.HTTP_201_CREATED)
def add_table_maps(
    env: str, body: SolutionUpload, session: SessionDep, actor: CurrentUser
) -> list[TableMapRead]:
    """Add new table maps from a solution file (tenant admins only)."""
    link = _link(session, actor, env)
    links.add_table_maps(session, actor, link, [(body.source, body.definition)])
    return overview.describe_maps(link)


@router.get("/maps", response_model=list[TableMapRead])
def list_maps(env: str, session: SessionDep, actor: CurrentUser) -> list[TableMapRead]:
    return overview.describe_maps(_link(session, actor, env))


@router.get("/maps/{name}", response_model=TableMapRead)
def show_map(env: str, name: str, session: SessionDep, actor: CurrentUser) -> TableMapRead:
    return _described(_link(session, actor, env), name)


@router.post("/maps/actions", response_model=list[TableMapRead])
def act_on_maps(
    env: str, body: MapAction, session: SessionDep, actor: CurrentUser
) -> list[TableMapRead]:
    """Run (optionally with initial sync), pause, resume or stop several maps at once."""
    link = _link(session, actor, env)
    if body.action == "run":
        tablemaps.run_maps(
            session, actor, link, body.maps, initial_sync=body.initial_sync, master=body.master
        )
    elif body.action in _OPERATIONS:
        _OPERATIONS[body.action](session, actor, link, body.maps)
    else:
        raise ERR.INVALID_INPUT.error(
            field="action", problem=f"'{body.action}' is not run, pause, resume or stop"
        )
    return overview.describe_maps(link)


@router.post("/maps/force-stop", response_model=list[TableMapRead])
def force_stop(
    env: str, body: ForceStop, session: SessionDep, actor: CurrentUser
) -> list[TableMapRead]:
    """Mark maps Not running without reaching the other side (tenant admins; logged)."""
    link = _link(session, actor, env)
    tablemaps.force_not_running(session, actor, link, body.maps, body.reason)
    return overview.describe_maps(link)


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(env: str, session: SessionDep, actor: CurrentUser) -> list[AlertRead]:
    return [
        AlertRead.model_validate(a) for a in alerts.alerts_of(session, _link(session, actor, env))
    ]


@router.patch("/maps/{name}/fields", response_model=TableMapRead)
def edit_field(
    env: str, name: str, body: FieldDirection, session: SessionDep, actor: CurrentUser
) -> TableMapRead:
    """Change a field mapping's direction (the map must be Not running; validated, logged)."""
    link = _link(session, actor, env)
    fieldmappings.set_field_direction(
        session, actor, link, name, body.dataverse_field, body.direction
    )
    return _described(link, name)


@router.get("/maps/{name}/fields", response_model=list[FieldMappingRead])
def list_fields(
    env: str, name: str, session: SessionDep, actor: CurrentUser
) -> list[FieldMappingRead]:
    """Every mapping as this link syncs it: keys, company, lookups and fields with transforms."""
    return fieldmappings.field_mappings(_link(session, actor, env), name)


@router.put("/maps/{name}/fields/{dataverse_field}/transform", response_model=FieldMappingRead)
def set_transform(
    env: str,
    name: str,
    dataverse_field: str,
    body: TransformWrite,
    session: SessionDep,
    actor: CurrentUser,
) -> FieldMappingRead:
    """Replace a field's transform: default and value map (the map must be Not running)."""
    return _transform(session, actor, env, name, dataverse_field, body)


@router.delete("/maps/{name}/fields/{dataverse_field}/transform", response_model=FieldMappingRead)
def reset_transform(
    env: str, name: str, dataverse_field: str, session: SessionDep, actor: CurrentUser
) -> FieldMappingRead:
    """Go back to the solution's transform for the field."""
    return _transform(session, actor, env, name, dataverse_field, None)


def _transform(
    session: Session,
    actor: User,
    env: str,
    name: str,
    dataverse_field: str,
    body: TransformWrite | None,
) -> FieldMappingRead:
    link = _link(session, actor, env)
    fieldmappings.set_field_transform(session, actor, link, name, dataverse_field, body)
    rows = fieldmappings.field_mappings(link, name)
    return next(r for r in rows if r.kind == "field" and r.dataverse == dataverse_field)


@router.get("/maps/{name}/initial-sync", response_model=InitialSyncDetail)
def initial_sync_detail(
    env: str, name: str, session: SessionDep, actor: CurrentUser
) -> InitialSyncDetail:
    """Initial sync executions: rows read, written, failed, and the failed records."""
    return initial_sync_read(session, _link(session, actor, env), name)


@router.post("/maps/{name}/initial-sync/rerun", response_model=RetryResult)
def rerun_initial_sync(env: str, name: str, session: SessionDep, actor: CurrentUser) -> RetryResult:
    """Re-run execution: retry only the records the latest initial sync failed on."""
    result = initialsync.rerun_execution(session, actor, _link(session, actor, env), name)
    return RetryResult(fixed=result.fixed, still_failing=result.still_failing)


@router.put("/maps/{name}/alert", response_model=AlertRead)
def set_alert(
    env: str, name: str, body: AlertSetting, session: SessionDep, actor: CurrentUser
) -> AlertRead:
    """N errors within T minutes → notify, pause or stop the map (the action is logged)."""
    rule = alerts.set_alert(
        session,
        actor,
        _link(session, actor, env),
        name,
        max_errors=body.max_errors,
        window_minutes=body.window_minutes,
        action=body.action,
    )
    return AlertRead.model_validate(rule)


@router.delete("/maps/{name}/alert", status_code=status.HTTP_204_NO_CONTENT)
def remove_alert(env: str, name: str, session: SessionDep, actor: CurrentUser) -> Response:
    alerts.remove_alert(session, actor, _link(session, actor, env), name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/activity", response_model=list[ActivityRead])
def list_activity(
    env: str,
    session: SessionDep,
    actor: CurrentUser,
    map: str | None = None,
    kind: str | None = None,
    by: str | None = None,
    before: Annotated[int | None, Query(ge=0, le=MAX_BIGINT)] = None,
    limit: Annotated[int, Query(ge=1, le=activity.MAX_PAGE)] = 50,
) -> list[ActivityRead]:
    """The activity log, newest first; pass the last id as `before` for the next page."""
    fo_env = environments.get_environment(session, actor, env)
    wanted = ActivityFilter(map_name=map, kind=kind, actor=by, before=before, limit=limit)
    return [ActivityRead.model_validate(e) for e in activity.list_activity(session, fo_env, wanted)]


@router.get("/maps/{name}/queue", response_model=list[QueuedRead])
def list_queue(
    env: str,
    name: str,
    session: SessionDep,
    actor: CurrentUser,
    after: Annotated[int | None, Query(ge=0, le=MAX_BIGINT)] = None,
    limit: Annotated[int, Query(ge=1, le=overview.MAX_QUEUE_PAGE)] = 50,
) -> list[QueuedRead]:
    """Queued changes of a (paused) map, page by page: pass the last position as `after`."""
    return overview.queued_records(_link(session, actor, env), name, after, limit)


@router.put("/maps/{name}/limits", response_model=TableMapRead)
def set_limits(
    env: str, name: str, body: QueueLimits, session: SessionDep, actor: CurrentUser
) -> TableMapRead:
    link = _link(session, actor, env)
    tablemaps.set_queue_limits(
        session, actor, link, name, max_age_seconds=body.max_age_seconds, max_bytes=body.max_bytes
    )
    return _described(link, name)


@router.put("/maps/{name}/mode", response_model=TableMapRead)
def set_mode(
    env: str, name: str, body: SyncMode, session: SessionDep, actor: CurrentUser
) -> TableMapRead:
    """Synchronous (default) or asynchronous live sync of writes through the environment APIs."""
    link = _link(session, actor, env)
    tablemaps.set_sync_mode(session, actor, link, name, synchronous=body.synchronous)
    return _described(link, name)


@router.get("/errors", response_model=list[SyncErrorRead])
def list_errors(
    env: str, session: SessionDep, actor: CurrentUser, map: str | None = None
) -> list[SyncErrorRead]:
    return overview.list_errors(_link(session, actor, env), map)


@router.get("/errors/{error_id}", response_model=SyncErrorDetail)
def show_error(
    env: str,
    error_id: ErrorId,
    session: SessionDep,
    actor: CurrentUser,
    direction: Literal["fo_to_dv", "dv_to_fo"] | None = None,
) -> SyncErrorDetail:
    """One error with the source and target records as they are now, field by field; pass
    `direction` (fo_to_dv or dv_to_fo) when the ID exists in both directions."""
    return inspect_error(_link(session, actor, env), error_id, direction)


@router.post("/errors/{error_id}/discard", status_code=status.HTTP_204_NO_CONTENT)
def discard_error(
    env: str, error_id: ErrorId, body: ErrorDiscard, session: SessionDep, actor: CurrentUser
) -> Response:
    """Give up on one record of the error log, with a reason (logged, never silent)."""
    link = _link(session, actor, env)
    tablemaps.discard_error(session, actor, link, body.map, error_id, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/errors/retry", response_model=RetryResult)
def retry_errors(
    env: str,
    map: str,
    session: SessionDep,
    actor: CurrentUser,
    id: Annotated[int | None, Query(ge=0, le=MAX_BIGINT)] = None,
) -> RetryResult:
    """Retry a map's open errors, or only the one with `id`."""
    fixed, failing = tablemaps.retry_map_errors(session, actor, _link(session, actor, env), map, id)
    return RetryResult(fixed=fixed, still_failing=failing)
