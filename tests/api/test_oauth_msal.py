"""Microsoft's own client library against `dualwrite serve --tls`: MSAL acquires tokens for an
environment's URL with client credentials and with a user's password over HTTPS, trusting the
server's self-signed certificate, with the control store on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal
import pytest
import requests

from backends import fresh_database
from dualwrite.control.store import ControlStore
from dualwrite.identity.tokens import verify_access_token
from factories import settings_for
from tokenworld import CONTOSO, TokenWorld, build


class LoopbackSession(requests.Session):
    """MSAL's HTTP client for a server on a loopback port. Before a password grant MSAL asks
    for the user realm at https://<authority host>/common/userrealm/… keeping only the host
    name of the authority, not its port; this sends such a request to the server's port."""

    def __init__(self, port: int, certificate: Path) -> None:
        super().__init__()
        self.port = port
        self.verify = str(certificate)  # trust the self-signed certificate, and only it
        self.trust_env = False  # REQUESTS_CA_BUNDLE would win over `verify` otherwise

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        parts = urlsplit(str(url))
        if parts.hostname == "127.0.0.1" and parts.port is None:
            url = parts._replace(netloc=f"127.0.0.1:{self.port}").geturl()
        return super().request(method, url, *args, **kwargs)


@dataclass
class Served:
    base: str
    port: int
    certificate: Path
    store: ControlStore
    world: TokenWorld
    environ: dict[str, str]  # how the server was started

    @property
    def authority(self) -> str:
        return f"{self.base}/{CONTOSO}"

    def http(self) -> LoopbackSession:
        return LoopbackSession(self.port, self.certificate)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(home: Path, environ: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    script = Path(sys.executable).parent / "dualwrite"
    command = [
        str(script),
        "--home",
        str(home),
        "serve",
        "--tls",
        "--no-worker",
        "--port",
        str(port),
    ]
    with log.open("ab") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environ)  # noqa: S603
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"no answer within 60 s:\n{log.read_text()}"
            time.sleep(0.2)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    settings = settings_for(tmp_path)
    with fresh_database(str(request.param), tmp_path) as url:
        on = settings.model_copy(update={"database_url": url})
        store = ControlStore(url)
        store.upgrade()
        world = build(store, on, tmp_path)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DUALWRITE_")} | {
            "DUALWRITE_DATABASE_URL": url
        }
        server, port = _serve(on.home, environ, tmp_path / "serve.log")
        try:
            certificate = on.home / "tls" / "server.crt"
            yield Served(f"https://127.0.0.1:{port}", port, certificate, store, world, environ)
        finally:
            _stop(server)
            store.dispose()


def _confidential(served: Served, secret: str | None = None) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        served.world.contoso.client_id,
        client_credential=secret or served.world.contoso.secret,
        authority=served.authority,
        validate_authority=False,  # not one of Microsoft's hosts: as MSAL documents for these
        instance_discovery=False,
        http_client=served.http(),
    )


def _principal(served: Served, token: str, audience: str) -> Any:
    with served.store.session() as session:
        return verify_access_token(session, token, audience)


def test_msal_gets_app_tokens_with_client_credentials(served: Served) -> None:
    app = _confidential(served)
    fo = f"{served.base}/environments/{served.world.contoso.fo_env}"
    result = app.acquire_token_for_client(scopes=[f"{fo}/.default"])
    assert "access_token" in result, result
    assert (result["token_type"], result["expires_in"]) == ("Bearer", 3599)
    assert _principal(served, result["access_token"], fo).app_id == served.world.contoso.client_id
    dataverse = f"{served.base}/dataverse/{served.world.contoso.dataverse_id}"
    other = app.acquire_token_for_client(scopes=[f"{dataverse}/.default"])
    assert (
        _principal(served, other["access_token"], dataverse).app_id
        == served.world.contoso.client_id
    )
    wrong = _confidential(served, "not-the-secret").acquire_token_for_client(
        scopes=[f"{fo}/.default"]
    )
    assert (wrong["error"], wrong["error_codes"]) == ("invalid_client", [7000215])
    foreign = app.acquire_token_for_client(
        scopes=[f"{served.base}/environments/{served.world.fabrikam.fo_env}/.default"]
    )
    assert (foreign["error"], foreign["error_codes"]) == ("invalid_resource", [500011])


def test_msal_gets_user_tokens_with_the_password(served: Served) -> None:
    fo = f"{served.base}/environments/{served.world.contoso.fo_env}"
    confidential = _confidential(served)
    result = confidential.acquire_token_by_username_password(
        served.world.user, served.world.password, scopes=[f"{fo}/.default"]
    )
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == served.world.user
    assert _principal(served, result["access_token"], fo).user_id is not None
    accounts = confidential.get_accounts()
    assert [a["username"] for a in accounts] == [served.world.user]
    public = msal.PublicClientApplication(
        served.world.contoso.client_id,
        authority=served.authority,
        validate_authority=False,
        instance_discovery=False,
        http_client=served.http(),
    )
    with pytest.warns(DeprecationWarning):  # MSAL discourages the password grant for public clients
        refused = public.acquire_token_by_username_password(
            served.world.user, "not the password", scopes=[f"{fo}/.default"]
        )
    assert (refused["error"], refused["error_codes"]) == ("invalid_grant", [50126])


def test_the_certificate_is_self_signed_for_loopback_and_kept(
    served: Served, tmp_path: Path
) -> None:
    made = served.certificate.read_bytes()
    key = served.certificate.with_name("server.key")
    assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(httpx.ConnectError):  # not trusted by default
        httpx.get(f"{served.base}/api/v1/health", verify=ssl.create_default_context(), timeout=10)
    trusted = ssl.create_default_context(cafile=served.certificate)
    for host in ("127.0.0.1", "localhost"):
        health = httpx.get(
            f"https://{host}:{served.port}/api/v1/health", verify=trusted, timeout=10
        )
        assert health.status_code == 200
    # A second server reuses the certificate (clients keep trusting it).
    again, _port = _serve(served.certificate.parents[1], served.environ, tmp_path / "again.log")
    _stop(again)
    assert served.certificate.read_bytes() == made
