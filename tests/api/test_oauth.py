"""The token service over real HTTP (uvicorn on a loopback port), with the control store on
SQLite and PostgreSQL: discovery, keys, client credentials (form and Basic), the password
grant, v1 and v2 replies, and every refusal in Entra's shape, with nothing stored."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from backends import fresh_database
from dualwrite.api.app import create_app
from dualwrite.control.models import (
    AuthSession,
    ClientSecret,
    EnvironmentAppUser,
    LoginFailure,
    RegisteredApplication,
    SigningKey,
)
from dualwrite.control.store import ControlStore
from dualwrite.identity import apps, directory
from dualwrite.identity.environment_access import grant_application_user
from dualwrite.identity.tokens import verify_access_token
from dualwrite.lifecycle import environments
from dualwrite.settings import Settings
from factories import settings_for
from liveserver import serving
from tokenworld import CONTOSO, TokenWorld, build


@dataclass
class Live:
    base: str
    http: httpx.Client
    store: ControlStore
    settings: Settings
    world: TokenWorld

    @property
    def fo(self) -> str:
        return f"{self.base}/environments/{self.world.contoso.fo_env}"

    @property
    def dataverse(self) -> str:
        return f"{self.base}/dataverse/{self.world.contoso.dataverse_id}"

    def token(self, tenant: str = CONTOSO, v1: bool = False, **kwargs: Any) -> httpx.Response:
        path = f"/{tenant}/oauth2/token" if v1 else f"/{tenant}/oauth2/v2.0/token"
        return self.http.post(path, **kwargs)

    def client_credentials(self, **fields: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.world.contoso.client_id,
            "client_secret": self.world.contoso.secret,
            "scope": f"{self.fo}/.default",
            **fields,
        }

    def password(self, **fields: str) -> dict[str, str]:
        return {
            "grant_type": "password",
            "client_id": self.world.contoso.client_id,
            "username": self.world.user,
            "password": self.world.password,
            "scope": f"{self.fo}/.default",
            **fields,
        }


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@contextmanager
def _serving(backend: str, folder: Path) -> Iterator[Live]:
    settings = settings_for(folder, login_max_failures=3)
    with fresh_database(backend, folder) as url:
        on = settings.model_copy(update={"database_url": url})
        store = ControlStore(url)
        store.upgrade()
        world = build(store, on, folder)
        try:
            with (
                serving(create_app(on, store)) as base,
                httpx.Client(base_url=base, timeout=30) as http,
            ):
                yield Live(base, http, store, on, world)
        finally:
            store.dispose()


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """A world of its own, for a test that changes it."""
    with _serving(str(request.param), tmp_path) as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One world for the tests that change nothing (each checks that it stored nothing)."""
    with _serving(str(request.param), tmp_path_factory.mktemp("oauth")) as server:
        yield server


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _stored(store: ControlStore) -> dict[str, int]:
    with store.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                RegisteredApplication,
                ClientSecret,
                EnvironmentAppUser,
                SigningKey,
                AuthSession,
                LoginFailure,
            )
        }


# --- discovery and keys --------------------------------------------------------------------


def test_discovery_names_the_tenants_endpoints_under_the_server_asked(shared: Live) -> None:
    tid = shared.world.contoso.directory_id
    for key in (CONTOSO, tid, tid.upper()):
        v2 = shared.http.get(f"/{key}/v2.0/.well-known/openid-configuration")
        assert v2.status_code == 200
        doc = v2.json()
        assert doc["issuer"] == f"{shared.base}/{tid}/v2.0"
        assert doc["token_endpoint"] == f"{shared.base}/{tid}/oauth2/v2.0/token"
        assert doc["authorization_endpoint"] == f"{shared.base}/{tid}/oauth2/v2.0/authorize"
        assert doc["jwks_uri"] == f"{shared.base}/{tid}/discovery/v2.0/keys"
        assert {"client_secret_post", "client_secret_basic"} <= set(
            doc["token_endpoint_auth_methods_supported"]
        )
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
        assert doc["subject_types_supported"] == ["pairwise"]
        assert "code" in doc["response_types_supported"]
        assert doc["tenant_region_scope"] is None
    v1 = shared.http.get(f"/{CONTOSO}/.well-known/openid-configuration").json()
    assert v1["issuer"] == f"{shared.base}/{tid}/"
    assert v1["token_endpoint"] == f"{shared.base}/{tid}/oauth2/token"
    assert v1["jwks_uri"] == f"{shared.base}/common/discovery/keys"


def test_a_proxy_that_says_https_gets_https_urls(shared: Live) -> None:
    """X-Forwarded-Proto counts from a trusted proxy (uvicorn trusts 127.0.0.1 by default);
    the Host header names the server."""
    doc = shared.http.get(
        f"/{CONTOSO}/v2.0/.well-known/openid-configuration",
        headers={"X-Forwarded-Proto": "https", "Host": "dw.example.com"},
    ).json()
    tid = shared.world.contoso.directory_id
    assert doc["issuer"] == f"https://dw.example.com/{tid}/v2.0"


def test_an_unknown_tenant_has_no_discovery(shared: Live) -> None:
    for path in (
        "/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        "/nowhere.onmicrosoft.com/.well-known/openid-configuration",
        "/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys",
        "/%00/discovery/keys",
    ):
        answer = shared.http.get(path)
        assert answer.status_code == 400, path
        body = answer.json()
        assert (body["error"], body["error_codes"]) == ("invalid_tenant", [90002])
        assert body["error_description"].startswith("AADSTS90002: Tenant '")


def test_tokens_verify_against_the_published_keys(shared: Live) -> None:
    token = shared.token(data=shared.client_credentials()).json()["access_token"]
    tid = shared.world.contoso.directory_id
    for path in (
        f"/{tid}/discovery/v2.0/keys",
        "/common/discovery/keys",
        "/common/discovery/v2.0/keys",
    ):
        keys = shared.http.get(path).json()["keys"]
        assert keys and {"kty", "use", "kid", "x5t", "n", "e", "x5c"} <= set(keys[0])
        kid = jwt.get_unverified_header(token)["kid"]
        key = jwt.PyJWK(next(k for k in keys if k["kid"] == kid)).key
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=shared.fo)
        assert claims["tid"] == tid
    v2_keys = shared.http.get(f"/{CONTOSO}/discovery/v2.0/keys").json()["keys"]
    assert v2_keys[0]["issuer"] == f"{shared.base}/{tid}/v2.0"


# --- tokens ----------------------------------------------------------------------------------


def test_client_credentials_in_the_form_get_an_app_token(shared: Live) -> None:
    answer = shared.token(data=shared.client_credentials(scope=f"{shared.fo}/.default"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert (body["expires_in"], body["ext_expires_in"]) == (3599, 3599)
    assert body["scope"] == f"{shared.fo}/.default"
    assert answer.headers["cache-control"] == "no-store, no-cache"
    claims = _claims(body["access_token"])
    contoso = shared.world.contoso
    assert claims["aud"] == shared.fo
    assert claims["iss"] == f"{shared.base}/{contoso.directory_id}/v2.0"
    assert (claims["tid"], claims["azp"], claims["idtyp"], claims["ver"]) == (
        contoso.directory_id,
        contoso.client_id,
        "app",
        "2.0",
    )
    assert claims["oid"] == claims["sub"] and "roles" not in claims
    assert claims["exp"] - claims["iat"] == 3600
    with shared.store.session() as session:
        principal = verify_access_token(session, body["access_token"], shared.fo)
    assert principal.app_id == contoso.client_id


def test_client_credentials_in_a_basic_header(shared: Live) -> None:
    contoso = shared.world.contoso
    answer = shared.token(
        tenant=contoso.directory_id,
        auth=(contoso.client_id, contoso.secret),
        data={"grant_type": "client_credentials", "scope": f"{shared.dataverse}/.default"},
    )
    assert answer.status_code == 200, answer.text
    assert _claims(answer.json()["access_token"])["aud"] == shared.dataverse
    # client_id may be repeated in the body, as many OAuth libraries do.
    again = shared.token(
        auth=(contoso.client_id, contoso.secret),
        data={
            "grant_type": "client_credentials",
            "client_id": contoso.client_id,
            "scope": f"{shared.dataverse}//.default",
        },
    )
    assert again.status_code == 200, again.text
    assert _claims(again.json()["access_token"])["aud"] == shared.dataverse


def test_a_v1_request_names_the_resource_and_gets_strings(shared: Live) -> None:
    answer = shared.token(
        v1=True,
        data={**shared.client_credentials(scope=""), "resource": f"{shared.dataverse}/"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == [
        "token_type",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "resource",
        "access_token",
    ]
    assert (body["expires_in"], body["resource"]) == ("3599", f"{shared.dataverse}/")
    assert int(body["expires_on"]) - int(body["not_before"]) == 3600
    claims = _claims(body["access_token"])
    assert (claims["aud"], claims["ver"], claims["appid"]) == (
        shared.dataverse,
        "1.0",
        shared.world.contoso.client_id,
    )
    assert claims["iss"] == f"{shared.base}/{shared.world.contoso.directory_id}/"


def test_an_application_user_has_its_roles_in_the_token(live: Live) -> None:
    with live.store.session() as session:
        admin = directory.get_user(session, live.world.contoso.admin)
        env = environments.get_environment(session, admin, live.world.contoso.fo_env)
        grant_application_user(
            session, admin, env, live.world.contoso.client_id, "System administrator"
        )
    claims = _claims(live.token(data=live.client_credentials()).json()["access_token"])
    assert claims["roles"] == ["System administrator"]


def test_the_dualwrite_application_signs_in_once_it_has_a_secret(live: Live) -> None:
    dualwrite = live.world.dualwrite_client_id
    fields = live.client_credentials(client_id=dualwrite, scope=f"{live.dataverse}/.default")
    fields.pop("client_secret")
    assert live.token(data=fields).json()["error_codes"] == [7000218]  # no secret yet
    with live.store.session() as session:
        admin = directory.get_user(session, live.world.contoso.admin)
        made = apps.rotate_secret(session, admin, apps.get_application(session, admin, dualwrite))
    answer = live.token(data={**fields, "client_secret": made.value})
    assert answer.status_code == 200, answer.text
    claims = _claims(answer.json()["access_token"])
    assert (claims["azp"], claims["roles"]) == (dualwrite, ["Dual-write app user"])


def test_a_user_gets_a_token_with_the_password_grant(live: Live) -> None:
    answer = live.token(
        data=live.password(
            scope=f"{live.fo}/.default openid profile offline_access", client_info="1"
        )
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == f"{live.fo}/user_impersonation openid profile"
    claims = _claims(body["access_token"])
    assert (claims["idtyp"], claims["upn"], claims["name"], claims["scp"]) == (
        "user",
        live.world.user,
        "Joe",
        "user_impersonation",
    )
    identity = _claims(body["id_token"])
    assert (identity["aud"], identity["preferred_username"]) == (
        live.world.contoso.client_id,
        live.world.user,
    )
    info = base64.urlsafe_b64decode(body["client_info"] + "==")
    assert live.world.contoso.directory_id in info.decode()
    with live.store.session() as session:
        principal = verify_access_token(session, body["access_token"], live.fo)
        assert principal.user_id == directory.get_user(session, live.world.user).id
    # v1, a public client (no secret), user_impersonation asked for by name.
    v1 = live.token(v1=True, data={**live.password(scope=""), "resource": live.dataverse})
    assert v1.status_code == 200, v1.text
    assert (v1.json()["scope"], _claims(v1.json()["access_token"])["unique_name"]) == (
        "user_impersonation",
        live.world.user,
    )
    named = live.token(data=live.password(scope=f"{live.dataverse}/user_impersonation"))
    assert named.status_code == 200, named.text


@dataclass(frozen=True)
class Refusal:
    """A bad token request and Entra's answer to it."""

    make: Callable[[Live], dict[str, Any]]  # keyword arguments of Live.token
    status: int
    error: str
    code: int
    says: str = ""


def _cc(**fields: str) -> Callable[[Live], dict[str, Any]]:
    return lambda live: {"data": live.client_credentials(**fields)}


def _without(name: str, grant: str = "cc") -> Callable[[Live], dict[str, Any]]:
    def make(live: Live) -> dict[str, Any]:
        fields = live.client_credentials() if grant == "cc" else live.password()
        fields.pop(name)
        return {"data": fields}

    return make


def _basic(raw: str) -> Callable[[Live], dict[str, Any]]:
    return lambda live: {
        "data": {"grant_type": "client_credentials", "scope": f"{live.fo}/.default"},
        "headers": {"Authorization": raw},
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


REFUSALS: dict[str, Refusal] = {
    "no grant_type": Refusal(
        _without("grant_type"), 400, "invalid_request", 900144, "'grant_type'"
    ),
    "JSON instead of a form": Refusal(
        lambda live: {"json": live.client_credentials()},
        400,
        "invalid_request",
        900144,
        "'grant_type'",
    ),
    "unsupported grant": Refusal(
        _cc(grant_type="authorization_code"), 400, "unsupported_grant_type", 70003
    ),
    "duplicate field": Refusal(
        lambda live: {
            "content": "&".join(f"{k}={v}" for k, v in live.client_credentials().items())
            + "&scope=x",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        400,
        "invalid_request",
        9002313,
        "'scope' is given more than once",
    ),
    "NUL in a field": Refusal(_cc(client_id="a\x00b"), 400, "invalid_request", 9002313, "NUL"),
    "not UTF-8": Refusal(
        lambda live: {
            "content": b"grant_type=client_credentials&client_id=\xff",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        400,
        "invalid_request",
        9002313,
    ),
    "too big": Refusal(_cc(client_assertion="x" * 70_000), 400, "invalid_request", 9002313),
    "too many fields": Refusal(
        lambda live: {"data": {**live.client_credentials(), **{f"f{n}": "x" for n in range(60)}}},
        400,
        "invalid_request",
        9002313,
    ),
    "NUL as tenant": Refusal(
        lambda live: {"tenant": "%00", "data": live.client_credentials()},
        400,
        "invalid_request",
        90002,
    ),
    "NUL in the scope's URL": Refusal(
        lambda live: {"data": live.client_credentials(scope=f"{live.fo}%00/.default")},
        400,
        "invalid_resource",
        500011,
    ),
    "unknown tenant": Refusal(
        lambda live: {"tenant": "nowhere.onmicrosoft.com", "data": live.client_credentials()},
        400,
        "invalid_request",
        90002,
        "Tenant 'nowhere.onmicrosoft.com' not found",
    ),
    "no client_id": Refusal(_without("client_id"), 400, "invalid_request", 900144, "'client_id'"),
    "client_id no GUID": Refusal(_cc(client_id="my-app"), 400, "unauthorized_client", 700016),
    "unknown client": Refusal(
        _cc(client_id="00000000-0000-0000-0000-000000000000"), 400, "unauthorized_client", 700016
    ),
    "another tenant's client": Refusal(
        lambda live: {"data": live.client_credentials(client_id=live.world.fabrikam.client_id)},
        400,
        "unauthorized_client",
        700016,
        f"not found in the directory '{CONTOSO}'",
    ),
    "no secret": Refusal(_without("client_secret"), 401, "invalid_client", 7000218),
    "bad secret": Refusal(_cc(client_secret="not-the-secret"), 401, "invalid_client", 7000215),
    "another app's secret": Refusal(
        lambda live: {"data": live.client_credentials(client_secret=live.world.fabrikam.secret)},
        401,
        "invalid_client",
        7000215,
    ),
    "no scope": Refusal(_without("scope"), 400, "invalid_request", 900144, "'scope'"),
    "scope without .default": Refusal(
        lambda live: {"data": live.client_credentials(scope=f"{live.fo}/user_impersonation")},
        400,
        "invalid_scope",
        1002012,
        "/.default suffixed",
    ),
    "two resources": Refusal(
        lambda live: {
            "data": live.client_credentials(scope=f"{live.fo}/.default {live.dataverse}/.default")
        },
        400,
        "invalid_scope",
        70011,
    ),
    "only openid": Refusal(
        _cc(scope="openid profile"), 400, "invalid_scope", 70011, "names no resource"
    ),
    "unknown environment": Refusal(
        lambda live: {
            "data": live.client_credentials(scope=f"{live.base}/environments/nowhere/.default")
        },
        400,
        "invalid_resource",
        500011,
        "was not found in the tenant named Contoso",
    ),
    "another tenant's environment": Refusal(
        lambda live: {
            "data": live.client_credentials(
                scope=f"{live.base}/environments/{live.world.fabrikam.fo_env}/.default"
            )
        },
        400,
        "invalid_resource",
        500011,
    ),
    "another tenant's Dataverse": Refusal(
        lambda live: {
            "data": live.client_credentials(
                scope=f"{live.base}/dataverse/{live.world.fabrikam.dataverse_id}/.default"
            )
        },
        400,
        "invalid_resource",
        500011,
    ),
    "another server's URL": Refusal(
        lambda live: {
            "data": live.client_credentials(
                scope=f"https://elsewhere.example/environments/{live.world.contoso.fo_env}/.default"
            )
        },
        400,
        "invalid_resource",
        500011,
    ),
    "nothing as resource": Refusal(_cc(scope="/.default"), 400, "invalid_resource", 500011),
    "v1 without resource": Refusal(
        lambda live: {"v1": True, "data": live.client_credentials()},
        400,
        "invalid_request",
        900144,
        "'resource'",
    ),
    "Basic not base64": Refusal(
        _basic("Basic %%%"), 400, "invalid_request", 9002313, "Authorization header"
    ),
    "Basic without colon": Refusal(
        _basic(f"Basic {_b64('just-an-id')}"), 400, "invalid_request", 9002313
    ),
    "Basic without client": Refusal(
        _basic(f"Basic {_b64(':secret')}"), 400, "invalid_request", 9002313
    ),
    "Basic without credentials": Refusal(_basic("Basic"), 400, "invalid_request", 9002313),
    "Basic and a secret in the body": Refusal(
        lambda live: {
            "data": live.client_credentials(),
            "auth": (live.world.contoso.client_id, live.world.contoso.secret),
        },
        400,
        "invalid_request",
        9002313,
        "both in the Authorization header and in the body",
    ),
    "Basic for another client than the body's": Refusal(
        lambda live: {
            "data": {
                "grant_type": "client_credentials",
                "client_id": live.world.fabrikam.client_id,
                "scope": f"{live.fo}/.default",
            },
            "auth": (live.world.contoso.client_id, live.world.contoso.secret),
        },
        400,
        "invalid_request",
        9002313,
    ),
    "password: no username": Refusal(
        _without("username", "password"), 400, "invalid_request", 900144, "'username'"
    ),
    "password: no password": Refusal(
        _without("password", "password"), 400, "invalid_request", 900144, "'password'"
    ),
    "password: bad secret of a confidential client": Refusal(
        lambda live: {"data": live.password(client_secret="nope")}, 401, "invalid_client", 7000215
    ),
    "password: bad scope": Refusal(
        lambda live: {"data": live.password(scope=f"{live.fo}/Odata.FullAccess")},
        400,
        "invalid_scope",
        70011,
    ),
}
PASSWORD_REFUSALS: dict[str, Refusal] = {
    "password: wrong password": Refusal(
        lambda live: {"data": live.password(password="not the password")},
        400,
        "invalid_grant",
        50126,
    ),
    "password: unknown user": Refusal(
        lambda live: {"data": live.password(username=f"nobody@{CONTOSO}")},
        400,
        "invalid_grant",
        50126,
    ),
    "password: another tenant's user": Refusal(
        lambda live: {"data": live.password(username=live.world.fabrikam.admin)},
        400,
        "invalid_grant",
        50126,
    ),
}


def _refused(live: Live, refusal: Refusal) -> dict[str, Any]:
    answer = live.token(**refusal.make(live))
    assert answer.status_code == refusal.status, answer.text
    body = answer.json()
    assert list(body) == [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
    ]
    assert (body["error"], body["error_codes"]) == (refusal.error, [refusal.code])
    description = body["error_description"]
    assert description.startswith(f"AADSTS{refusal.code}: "), description
    assert refusal.says in description
    assert (
        f"\r\nTrace ID: {body['trace_id']}\r\nCorrelation ID: {body['correlation_id']}\r\n"
        in description
    )
    assert description.endswith(f"Timestamp: {body['timestamp']}")
    return body


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_bad_requests_are_refused_as_entra_does_and_store_nothing(shared: Live, case: str) -> None:
    live = shared
    before = _stored(live.store)
    body = _refused(live, REFUSALS[case])
    assert _stored(live.store) == before
    for secret in (live.world.contoso.secret, live.world.fabrikam.secret):
        assert secret not in str(body)
    # Another tenant's thing is refused as one that nobody has: the answer never names it.
    assert "fabrikam" not in body["error_description"].lower().replace(
        f"/environments/{live.world.fabrikam.fo_env}", ""
    )


@pytest.mark.parametrize("case", list(PASSWORD_REFUSALS), ids=list(PASSWORD_REFUSALS))
def test_wrong_passwords_are_refused_and_counted(live: Live, case: str) -> None:
    before = _stored(live.store)
    _refused(live, PASSWORD_REFUSALS[case])
    after = _stored(live.store)
    counted = after.pop("login_failures") - before.pop("login_failures")
    assert (after, counted) == (before, 0 if "another tenant" in case else 1)


def test_an_expired_secret_and_a_disabled_application_are_refused(live: Live) -> None:
    with live.store.session() as session:
        admin = directory.get_user(session, live.world.contoso.admin)
        app = apps.get_application(session, admin, live.world.contoso.client_id)
        newest = apps.rotate_secret(session, admin, app)  # the world's secret ends now
    expired = _refused(live, Refusal(_cc(), 401, "invalid_client", 7000222, "are expired"))
    assert live.world.contoso.client_id in expired["error_description"]
    assert live.token(data=live.client_credentials(client_secret=newest.value)).status_code == 200
    with live.store.session() as session:
        admin = directory.get_user(session, live.world.contoso.admin)
        app = apps.get_application(session, admin, live.world.contoso.client_id)
        apps.update_application(session, admin, app, enabled=False)
    _refused(
        live,
        Refusal(
            _cc(client_secret=newest.value), 400, "unauthorized_client", 7000112, "is disabled"
        ),
    )


def test_repeated_wrong_passwords_make_that_address_wait(live: Live) -> None:
    wrong = Refusal(
        lambda live: {"data": live.password(password="not the password")},
        400,
        "invalid_grant",
        50126,
    )
    for _ in range(live.settings.login_max_failures):
        _refused(live, wrong)
    answer = live.token(data=live.password())  # even the right password waits now
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [50053]
    assert int(answer.headers["retry-after"]) > 0


def test_the_token_endpoint_only_takes_posts(shared: Live) -> None:
    for path in (f"/{CONTOSO}/oauth2/v2.0/token", f"/{CONTOSO}/oauth2/token"):
        answer = shared.http.get(path)
        assert answer.status_code == 400
        assert answer.json()["error_codes"] == [900561]


def test_the_correlation_id_is_the_clients_request_id(shared: Live) -> None:
    request_id = "9e1c0c4b-5d5f-4e8e-9a53-5a2f2e6e0c11"
    answer = shared.token(
        data=shared.client_credentials(client_secret="x"), headers={"client-request-id": request_id}
    )
    assert answer.json()["correlation_id"] == request_id == answer.headers["client-request-id"]
    assert answer.headers["x-ms-request-id"] == answer.json()["trace_id"]


def test_the_user_realm_is_managed(shared: Live) -> None:
    known = shared.http.get(
        f"/common/userrealm/{shared.world.user}", params={"api-version": "1.0"}
    ).json()
    assert (known["account_type"], known["domain_name"]) == ("Managed", CONTOSO)
    unknown = shared.http.get("/common/userrealm/someone@nowhere.example").json()
    assert unknown["account_type"] == "Unknown" and "domain_name" not in unknown
