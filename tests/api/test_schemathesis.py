"""Schemathesis generates requests from our OpenAPI description, signed in as a tenant admin and
as a plain user without roles, in a world where every setup flow is done and a map runs with
errors in its log: no input may produce a server error (5xx). Path and query parameters are
drawn from the world's real names too, so requests get past "not found" into the code behind."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import fuzzworld
from dualwrite.api.app import API_PREFIX, create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings

# Schemathesis reads the schema when the module is collected, so the app exists from then on;
# its world is built (and its folder removed) by the module fixture below.
HOME = Path(tempfile.mkdtemp(prefix="dualwrite-schemathesis-"))
CONFIG = Settings(home=HOME, database_url=None, store_directories=[HOME])
STORE = ControlStore(CONFIG.control_url)
APP = create_app(CONFIG, STORE)
schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", APP)
TOKEN = f"{API_PREFIX}/auth/token"


def _real_or_generated(ctx: Any, values: dict[str, Any] | None, real_first: bool) -> Any:
    """Each value as generated or one of the world's real names. Hypothesis favours the first
    choice: real names in the path (to get past the lookups), generated ones in the query."""
    if not values:
        return st.just(values)
    path = ctx.operation.path if ctx.operation is not None else ""
    choices = {name: fuzzworld.real_names(path, name) for name in values}
    return st.fixed_dictionaries(
        {
            name: st.sampled_from([*real, value] if real_first else [value, *real])
            for name, value in values.items()
            for real in [choices[name]]
        }
    )


def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> Any:
    return _real_or_generated(ctx, path_parameters, real_first=True)


def flatmap_query(ctx: Any, query: dict[str, Any] | None) -> Any:
    return _real_or_generated(ctx, query, real_first=False)


SAFE = ("GET", "HEAD", "OPTIONS")


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[dict[str, dict[str, str]], fuzzworld.Snapshot]]:
    """Bearer headers per user, and the world to go back to after each request that writes."""
    fuzzworld.build(STORE, CONFIG)
    with TestClient(APP) as client:
        headers = {
            user: {
                "Authorization": f"Bearer {client.post(TOKEN, json=body).json()['access_token']}"
            }
            for user, body in ((u, fuzzworld.sign_in_body(u)) for u in fuzzworld.USERS)
        }
    snapshot = fuzzworld.Snapshot(STORE, HOME)
    yield headers, snapshot
    STORE.dispose()
    snapshot.remove()
    shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture(scope="module", params=sorted(fuzzworld.USERS))
def user(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@schema.hooks.apply(flatmap_query)
@schema.hooks.apply(flatmap_path_parameters)
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error(
    case: schemathesis.Case,
    world: tuple[dict[str, dict[str, str]], fuzzworld.Snapshot],
    user: str,
) -> None:
    headers, snapshot = world
    try:
        response = case.call(headers=headers[user])
    finally:
        if case.method.upper() not in SAFE:  # it may have changed the world (or signed out)
            snapshot.restore()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)


def test_every_api_route_is_in_the_description() -> None:
    """The fuzzing above covers the description; every API route of the app must be in it."""
    documented = {
        (op.method.upper(), op.path)
        for op in (result.ok() for result in schema.get_all_operations())
    }
    routes = {
        (method, str(route.path))
        for route in iter_route_contexts(APP.routes)
        if isinstance(route.original_route, APIRoute)
        and str(route.path).startswith(f"{API_PREFIX}/")
        and route.include_in_schema
        for method in route.methods or ()
    }
    assert routes and routes == documented
