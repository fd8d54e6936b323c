"""Service health: is the control store reachable and migrated."""

from __future__ import annotations

from fastapi import APIRouter

from dualwrite import __version__
from dualwrite.api.deps import StoreDep
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
