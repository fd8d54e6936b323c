"""Hypothesis over every page of the web UI, taken from the app's route table (a new page is
fuzzed without touching this file): path and query parameters are the world's real names or
anything else a browser can send, signed in with a browser session as a tenant admin or as a
plain user, or not signed in. No page may answer with a server error (5xx). Form posts get
random fields, with or without the CSRF token, as a form, JSON or plain text."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzworld
from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings

# The route table needs an app at collection time; the world is built by the fixture below.
HOME = Path(tempfile.mkdtemp(prefix="dualwrite-fuzz-pages-"))
CONFIG = Settings(home=HOME, database_url=None, store_directories=[HOME])
STORE = ControlStore(CONFIG.control_url)
APP = create_app(CONFIG, STORE)
# Signing out ends the session the other examples need; test_sign_in covers it.
NOT_FUZZED = {("POST", "/logout")}
VISITORS = ("admin", "plain", "anonymous")
Draw = Callable[[st.SearchStrategy[Any]], Any]  # hypothesis' st.data().draw


def _pages(method: str) -> list[Any]:
    """The app's routes for `method` outside the API description (schemathesis covers that)."""
    return [
        route
        for route in iter_route_contexts(APP.routes)
        if isinstance(route.original_route, APIRoute)
        and not route.include_in_schema
        and method in (route.methods or ())
        and (method, route.path) not in NOT_FUZZED
    ]


GET_PAGES = _pages("GET")
POST_PAGES = _pages("POST")


class Visitors:
    """A browser per visitor: signed in with the session cookie (and its CSRF token), or not."""

    def __init__(self) -> None:
        self.clients: dict[str, TestClient] = {}
        self.csrf: dict[str, str] = {}
        for visitor in VISITORS:
            client = TestClient(APP, follow_redirects=False)
            if visitor != "anonymous":
                signed = client.post("/api/v1/auth/login", json=fuzzworld.sign_in_body(visitor))
                assert signed.status_code == 200, signed.text
                self.csrf[visitor] = signed.json()["csrf_token"]
            self.clients[visitor] = client


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Visitors, fuzzworld.Snapshot]]:
    fuzzworld.build(STORE, CONFIG)
    visitors = Visitors()
    snapshot = fuzzworld.Snapshot(STORE, HOME)
    yield visitors, snapshot
    STORE.dispose()
    snapshot.remove()
    shutil.rmtree(HOME, ignore_errors=True)


def _value(draw: Draw, route: Any, name: str, odd: bool) -> str:
    real = fuzzworld.real_names(str(route.path), name)
    return draw(fuzzworld.nasty() if odd or not real else st.sampled_from(real))


def _path(draw: Draw, route: Any) -> str:
    """Real names in the path but for at most one parameter, so requests reach the code behind
    the lookups; the odd one out is anything nasty."""
    names = list(route.param_convertors)
    odd = draw(st.sampled_from([None, *names]))
    path = str(route.path)
    for name in names:
        path = path.replace(f"{{{name}}}", quote(_value(draw, route, name, name == odd), safe=""))
    return path


def _fields(draw: Draw, route: Any, params: list[Any]) -> dict[str, str]:
    """Some of the query parameters or form fields, each a real value or anything nasty."""
    return {
        p.alias: _value(draw, route, p.alias, draw(st.booleans()))
        for p in params
        if draw(st.booleans())
    }


FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("route", GET_PAGES, ids=[str(r.path) for r in GET_PAGES])
@FUZZ
@given(data=st.data())
def test_no_page_is_a_server_error(
    route: Any, world: tuple[Visitors, fuzzworld.Snapshot], data: st.DataObject
) -> None:
    visitors, _snapshot = world
    visitor = data.draw(st.sampled_from(VISITORS))
    path = _path(data.draw, route)
    query = _fields(data.draw, route, route.original_route.dependant.query_params)
    response = visitors.clients[visitor].get(path, params=query)
    assert response.status_code < 500, (visitor, path, query, response.text[:2000])


@pytest.mark.parametrize("route", POST_PAGES, ids=[str(r.path) for r in POST_PAGES])
@FUZZ
@given(data=st.data())
def test_no_form_post_is_a_server_error(
    route: Any, world: tuple[Visitors, fuzzworld.Snapshot], data: st.DataObject
) -> None:
    visitors, snapshot = world
    visitor = data.draw(st.sampled_from(VISITORS))
    path = _path(data.draw, route)
    fields = _fields(data.draw, route, route.original_route.dependant.body_params)
    token = visitors.csrf.get(visitor, "")
    if data.draw(st.integers(0, 3)) == 3:  # now and then a wrong one (hypothesis favours 0)
        token = "".join(c for c in data.draw(fuzzworld.nasty()) if c.isprintable())
    how = data.draw(st.sampled_from(["form", "multipart", "json", "text"]))
    client = visitors.clients[visitor]
    header = {"X-CSRF-Token": token.encode()}  # as scripts send it, with any body
    try:
        if how == "form":
            response = client.post(path, data={**fields, "csrf_token": token})
        elif how == "multipart":
            files = {"upload": ("x.toml", b"\x00\xff")}
            response = client.post(path, data={**fields, "csrf_token": token}, files=files)
        elif how == "json":
            response = client.post(path, json=fields, headers=header)
        else:
            body = str(fields).encode()
            response = client.post(path, content=body, headers={**header, "content-type": "text/x"})
    finally:
        snapshot.restore()  # it may have changed the world
    assert response.status_code < 500, (visitor, how, path, fields, response.text[:2000])
