"""The application factory: REST API under /api/v1, web pages, static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from dualwrite import __version__
from dualwrite.api import errors
from dualwrite.api.limits import LimitBody
from dualwrite.api.routes import (
    apps,
    auth,
    dualwrite,
    environments,
    health,
    integration,
    oauth,
    platform,
    projects,
    tenants,
    users,
)
from dualwrite.control.store import ControlStore
from dualwrite.envapi import dataverse as dataverse_api
from dualwrite.envapi import fo as fo_api
from dualwrite.envapi import stores as envapi_stores
from dualwrite.envapi import web as envapi_web
from dualwrite.settings import Settings

API_PREFIX = "/api/v1"
# Every router of the API, in the order the docs list them (all mounted under API_PREFIX).
ROUTERS: tuple[APIRouter, ...] = (
    *(
        module.router
        for module in (
            health,
            auth,
            tenants,
            users,
            projects,
            environments,
            integration,
            platform,
            apps,
            dualwrite,
        )
    ),
    dualwrite.wizard_router,
)


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for child in ROUTERS:
        router.include_router(child)
    return router


def create_app(settings: Settings, store: ControlStore | None = None) -> FastAPI:
    """Build the app around one control store; nothing is created at import time."""
    from dualwrite.web import pages  # here, not at the top: web.pages imports this module

    control = store or ControlStore(settings.control_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        envapi_stores.dispose_all()
        if store is None:  # a store handed in belongs to the caller
            control.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="dualwrite",
        version=__version__,
        summary="Dual-write between finance and operations and Dataverse: administration API.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by web/ from local assets: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = control
    # Inside the error renderer (added next): a body over the limit is a 413 problem.
    app.add_middleware(LimitBody, max_bytes=settings.max_request_bytes)
    errors.install(app, html=pages.render_problem)
    app.include_router(api_router())
    app.include_router(oauth.router)  # the identity platform's paths, outside /api/v1
    # The environments' own APIs: Dataverse Web API and finance and operations OData.
    envapi_web.install(app)
    app.include_router(dataverse_api.router)
    app.include_router(fo_api.router)
    pages.install(app)
    return app
