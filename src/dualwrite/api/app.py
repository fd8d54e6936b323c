"""The application factory: REST API under /api/v1, web pages, static files."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from dualwrite import __version__
from dualwrite.api import errors
from dualwrite.api.routes import (
    auth,
    dualwrite,
    environments,
    health,
    platform,
    projects,
    tenants,
    users,
)
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (health, auth, tenants, users, projects, environments, platform, dualwrite):
        router.include_router(module.router)
    return router


def create_app(settings: Settings, store: ControlStore | None = None) -> FastAPI:
    """Build the app around one control store; nothing is created at import time."""
    from dualwrite.web.pages import install as install_web

    app = FastAPI(
        title="dualwrite",
        version=__version__,
        summary="Dual-write between finance and operations and Dataverse: administration API.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by web/ from local assets: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store or ControlStore(settings.control_url)
    errors.install(app)
    app.include_router(api_router())
    install_web(app)
    return app
