"""Service health (is the control store reachable and migrated) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from dualwrite import __version__
from dualwrite.api.deps import CurrentUser, SessionDep, StoreDep
from dualwrite.ops.metrics import CONTENT_TYPE, render_metrics
from dualwrite.schemas import HealthRead

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthRead)
def health(store: StoreDep) -> HealthRead:
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
