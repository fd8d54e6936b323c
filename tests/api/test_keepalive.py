"""An error never costs the client its connection: on a keep-alive connection to uvicorn (as
`dualwrite serve` runs it), the request after an error is answered on the same socket."""

from __future__ import annotations

import http.client
from collections.abc import Callable

import pytest

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from liveserver import serving

Login = Callable[[str], dict[str, str]]


def _boom() -> None:
    raise RuntimeError("an unexpected error")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/boom", 500),  # an unexpected error, rendered as DW0000
        ("/boom", 500),  # the same on a page: the HTML error page
        ("/api/v1/projects/Nowhere", 404),  # a catalogue error
        ("/api/v1/environments/x/maps/y/queue?limit=lots", 422),  # request validation
        ("/api/v1/nothing-here", 404),  # no such route
    ],
)
def test_the_next_request_on_the_connection_is_answered(
    settings: Settings, store: ControlStore, login: Login, path: str, status: int
) -> None:
    app = create_app(settings, store)
    app.add_api_route("/api/v1/boom", _boom)
    app.add_api_route("/boom", _boom)
    headers = login("admin")
    with serving(app) as base:
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            failed = conn.getresponse()
            failed.read()
            assert failed.status == status
            assert failed.getheader("connection", "").lower() != "close"
            socket_used = conn.sock
            # Before the fix: RemoteDisconnected, the server had closed the connection.
            conn.request("GET", "/api/v1/auth/me", headers=headers)
            after = conn.getresponse()
            after.read()
            assert after.status == 200
            assert conn.sock is socket_used  # answered on the same connection, not a new one
        finally:
            conn.close()
