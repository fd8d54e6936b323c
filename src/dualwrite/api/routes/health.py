"""Service health (is the control store reachable and migrated) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dualwrite import __version__
from dualwrite.api.deps import CurrentUser, SessionDep, StoreDep
from dualwrite.ops import health, workers
from dualwrite.ops.metrics import CONTENT_TYPE, render_metrics
from dualwrite.schemas import HealthRead, ServiceHealthRead, WorkerRead

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthRead)
def control_store_health(store: StoreDep) -> HealthRead:
    revision = store.current_revision()  # DW2002 (503) when the store cannot be reached
    return HealthRead(
        status="ok" if store.is_current() else "needs-upgrade",
        version=__version__,
        control_store=store.url,
        schema_revision=revision,
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics(session: SessionDep, actor: CurrentUser) -> Response:
    """Prometheus metrics of the environments you can see (scrape with a bearer token)."""
    return Response(render_metrics(session, actor), media_type=CONTENT_TYPE)


@router.get("/service-health", response_model=ServiceHealthRead)
def service_health(session: SessionDep, actor: CurrentUser) -> ServiceHealthRead:
    """Is the sync worker (data integration service) running?"""
    del actor  # any signed-in user may know
    found = health.service_health(session)
    return ServiceHealthRead(**found.__dict__)


@router.get("/workers", response_model=list[WorkerRead])
def list_workers(session: SessionDep, actor: CurrentUser) -> list[WorkerRead]:
    """The workers sharing the maps over a stream, what each leases and its lag (operators)."""
    return [
        WorkerRead.model_validate(w, from_attributes=True)
        for w in workers.list_workers(session, actor)
    ]


@router.post(
    "/service-health/restart",
    response_model=ServiceHealthRead,
    status_code=status.HTTP_202_ACCEPTED,
)
def restart_service(session: SessionDep, actor: CurrentUser) -> ServiceHealthRead:
    """Ask the supervisor to restart the sync worker (Global administrators)."""
    health.request_restart(session, actor)
    return ServiceHealthRead(**health.service_health(session).__dict__)
