"""The token endpoint (`/{tenant}/oauth2/v2.0/token`, v1 `/{tenant}/oauth2/token`): the
client credentials grant for registered applications and the password grant for users, with
Entra's parameters, replies and AADSTS errors. A refused request stores nothing (a wrong
password is counted, for throttling, as at the sign-in page)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import RegisteredApplication, Tenant, User
from dualwrite.control.store import ControlStore
from dualwrite.errors import AuthenticationError, ThrottledError
from dualwrite.identity import sessions, tokens
from dualwrite.identity.aadsts import STS
from dualwrite.identity.apps import SecretCheck, check_secret
from dualwrite.identity.directory import find_tenant
from dualwrite.identity.environment_access import security_roles
from dualwrite.identity.principals import Principal
from dualwrite.identity.resources import Resource, find_resource
from dualwrite.identity.tokens import TokenVersion
from dualwrite.settings import Settings

CLIENT_CREDENTIALS = "client_credentials"
PASSWORD = "password"  # noqa: S105 - the grant type's name
DEFAULT_SCOPE = "/.default"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


@dataclass(frozen=True)
class TokenRequest:
    """The form of a token request, the client's credentials taken from it or from Basic."""

    fields: Mapping[str, str]
    client_id: str | None
    client_secret: str | None

    def get(self, name: str) -> str | None:
        return self.fields.get(name) or None  # an empty value is as good as none


def _basic(authorization: str) -> tuple[str, str]:
    """client_id and secret of `Basic base64(urlencoded id ":" urlencoded secret)` (RFC 6749
    section 2.3.1)."""
    try:
        decoded = base64.b64decode(authorization.split(" ", 1)[1].strip(), validate=True)
        client_id, secret = decoded.decode().split(":", 1)
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        raise STS.MALFORMED_REQUEST.refuse(
            problem="The Authorization header is not Basic base64(client_id:client_secret)."
        ) from None
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if "\x00" in client_id + secret:
        raise STS.MALFORMED_REQUEST.refuse(problem="The request holds a NUL character.")
    if not client_id:
        raise STS.MALFORMED_REQUEST.refuse(problem="The Authorization header names no client.")
    return client_id, secret


def parse_token_request(
    pairs: Sequence[tuple[str, str]], authorization: str | None
) -> TokenRequest:
    """A token request from its form fields and Authorization header: each field at most
    once, the client secret in the form (client_secret_post) or in Basic
    (client_secret_basic), not both."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:  # no database stores it: PostgreSQL refuses it
            raise STS.MALFORMED_REQUEST.refuse(problem="The request holds a NUL character.")
        if name in fields:
            raise STS.MALFORMED_REQUEST.refuse(
                problem=f"The parameter '{name}' is given more than once."
            )
        fields[name] = value
    client_id, secret = fields.get("client_id") or None, fields.get("client_secret") or None
    scheme = (authorization or "").strip().split(" ", 1)[0].lower()
    if scheme == "basic":
        basic_id, basic_secret = _basic((authorization or "").strip())
        if secret is not None:
            raise STS.MALFORMED_REQUEST.refuse(
                problem="The client secret is given both in the Authorization header and in "
                "the body; use one."
            )
        if client_id is not None and client_id != basic_id:
            raise STS.MALFORMED_REQUEST.refuse(
                problem="client_id in the body is not the client of the Authorization header."
            )
        client_id, secret = basic_id, basic_secret or None
    return TokenRequest(fields, client_id, secret)


@dataclass(frozen=True)
class _Asked:
    resource: str  # as the client named it (v1 replies echo it)
    scope: str  # the scope of the reply
    openid: bool  # an ID token is wanted


def _scope(request: TokenRequest, grant: str, version: TokenVersion) -> _Asked:
    """The resource a request asks for: v1 `resource=<URL>`; v2 `scope=<URL>/.default`
    (users: also `<URL>/user_impersonation`), besides OpenID Connect's scopes."""
    if version is TokenVersion.V1:
        resource = _required(request, "resource")
        return _Asked(resource, tokens.USER_SCOPE if grant == PASSWORD else "", openid=False)
    scope = _required(request, "scope")
    items = scope.split()
    resources = [s for s in items if s not in OIDC_SCOPES]
    if len(resources) != 1:
        problem = (
            f"The scope '{scope}' names no resource."
            if not resources
            else f"The scope '{scope}' names {len(resources)} resources; ask for one at a time."
        )
        raise STS.INVALID_SCOPE.refuse(problem=problem)
    asked = resources[0]
    suffixes = [DEFAULT_SCOPE] + ([f"/{tokens.USER_SCOPE}"] if grant == PASSWORD else [])
    suffix = next((s for s in suffixes if asked.endswith(s)), None)
    if suffix is None:
        if grant == CLIENT_CREDENTIALS:
            raise STS.SCOPE_NOT_DEFAULT.refuse(scope=asked)
        raise STS.INVALID_SCOPE.refuse(
            problem=f"The scope '{asked}' is not <resource>/.default or "
            f"<resource>/{tokens.USER_SCOPE}."
        )
    resource = asked[: -len(suffix)]
    if grant == CLIENT_CREDENTIALS:
        return _Asked(resource, asked, openid=False)
    granted = [f"{resource}/{tokens.USER_SCOPE}", *(s for s in ("openid", "profile") if s in items)]
    return _Asked(resource, " ".join(granted), openid="openid" in items)


def _required(request: TokenRequest, name: str) -> str:
    value = request.get(name)
    if value is None:
        raise STS.MISSING_PARAMETER.refuse(name=name)
    return value


def _tenant(session: Session, key: str) -> Tenant:
    tenant = find_tenant(session, key)
    if tenant is None:
        raise STS.UNKNOWN_TENANT.refuse(tenant=key)
    return tenant


def _client(
    session: Session, tenant: Tenant, key: str, request: TokenRequest, *, secret_required: bool
) -> RegisteredApplication:
    """The registered application the request signs in as; its secret when one is sent (a
    password grant may come from a public client, which has none)."""
    client_id = request.client_id
    if client_id is None:
        raise STS.MISSING_PARAMETER.refuse(name="client_id")
    try:  # client IDs are GUIDs: anything else names no application
        wanted = str(uuid.UUID(client_id.strip()))
    except ValueError:
        raise STS.UNKNOWN_CLIENT.refuse(client_id=client_id, tenant=key) from None
    app = session.scalar(
        select(RegisteredApplication).where(
            RegisteredApplication.tenant_id == tenant.id,
            RegisteredApplication.client_id == wanted,
        )
    )
    if app is None:
        raise STS.UNKNOWN_CLIENT.refuse(client_id=client_id, tenant=key)
    if request.client_secret is None:
        if secret_required:
            raise STS.MISSING_SECRET.refuse()
    else:
        check = check_secret(app, request.client_secret)
        if check is SecretCheck.WRONG:
            raise STS.INVALID_SECRET.refuse(client_id=app.client_id)
        if check is SecretCheck.EXPIRED:
            raise STS.EXPIRED_SECRET.refuse(client_id=app.client_id)
    if not app.enabled:
        raise STS.CLIENT_DISABLED.refuse(client_id=app.client_id, name=app.display_name)
    return app


def _resource(session: Session, tenant: Tenant, asked: _Asked, base: str) -> Resource:
    """An environment of this tenant on this server; anything else — another tenant's
    environment among them — is a resource the tenant does not have."""
    found = find_resource(session, tenant, asked.resource, base=base)
    if found is None:
        raise STS.RESOURCE_NOT_FOUND.refuse(resource=asked.resource, tenant=tenant.display_name)
    return found


def _reply(minted: tokens.Minted, asked: _Asked, version: TokenVersion) -> dict[str, Any]:
    """Entra's success reply: v2 with numbers, v1 with strings and the resource echoed."""
    if version is TokenVersion.V2:
        return {
            "token_type": "Bearer",
            "scope": asked.scope,
            "expires_in": minted.expires_in,
            "ext_expires_in": minted.expires_in,
            "access_token": minted.access_token,
        }
    reply = {
        "token_type": "Bearer",
        "expires_in": str(minted.expires_in),
        "ext_expires_in": str(minted.expires_in),
        "expires_on": str(minted.expires_on),
        "not_before": str(minted.issued_at),
        "resource": asked.resource,
        "access_token": minted.access_token,
    }
    if asked.scope:
        reply["scope"] = asked.scope
    return reply


def issue(
    store: ControlStore,
    settings: Settings,
    *,
    tenant_key: str,
    base: str,
    version: TokenVersion,
    request: TokenRequest,
    source: str,
) -> dict[str, Any]:
    """The reply to a token request at `<base>/<tenant_key>/…/token`, or StsError.
    `source` is the client's address, for the password grant's throttling."""
    grant = _required(request, "grant_type")
    if grant == CLIENT_CREDENTIALS:
        return _client_credentials(store, settings, tenant_key, base, version, request)
    if grant == PASSWORD:
        return _password(store, settings, tenant_key, base, version, request, source)
    raise STS.UNSUPPORTED_GRANT.refuse(grant_type=grant)


def _client_credentials(
    store: ControlStore,
    settings: Settings,
    tenant_key: str,
    base: str,
    version: TokenVersion,
    request: TokenRequest,
) -> dict[str, Any]:
    with store.session() as session:
        tenant = _tenant(session, tenant_key)
        app = _client(session, tenant, tenant_key, request, secret_required=True)
        asked = _scope(request, CLIENT_CREDENTIALS, version)
        resource = _resource(session, tenant, asked, base)
        principal = Principal(tenant.id, app.object_id, app_id=app.client_id)
        minted = tokens.mint_app_token(
            session,
            settings,
            base=base,
            tenant=tenant,
            app=app,
            resource=resource,
            version=version,
            roles=security_roles(session, principal, resource),
        )
        return _reply(minted, asked, version)


def _password(
    store: ControlStore,
    settings: Settings,
    tenant_key: str,
    base: str,
    version: TokenVersion,
    request: TokenRequest,
    source: str,
) -> dict[str, Any]:
    with store.session() as session:
        tenant = _tenant(session, tenant_key)
        app = _client(session, tenant, tenant_key, request, secret_required=False)
        username, password = _required(request, "username"), _required(request, "password")
        asked = _scope(request, PASSWORD, version)
        tenant_id, app_id = tenant.id, app.id
    user_id = _check_password(store, settings, username, password, source)
    with store.session() as session:
        tenant = session.get_one(Tenant, tenant_id)
        app = session.get_one(RegisteredApplication, app_id)
        user = session.get_one(User, user_id)
        if user.tenant_id != tenant.id:  # a user of another tenant: not one of this directory
            raise STS.INVALID_CREDENTIALS.refuse()
        resource = _resource(session, tenant, asked, base)
        minted = tokens.mint_user_token(
            session,
            settings,
            base=base,
            tenant=tenant,
            user=user,
            app=app,
            resource=resource,
            version=version,
            with_secret=request.client_secret is not None,
            id_token=asked.openid,
        )
        reply = _reply(minted, asked, version)
        if minted.id_token is not None:
            reply["id_token"] = minted.id_token
        if version is TokenVersion.V2 and request.get("client_info") == "1":
            reply["client_info"] = tokens.client_info(user, tenant)
        return reply


def _check_password(
    store: ControlStore, settings: Settings, username: str, password: str, source: str
) -> int:
    """The user's ID; the sign-in page's throttling and failure count apply."""
    try:
        return sessions.check_password(store, settings, username, password, source=source)
    except ThrottledError as error:
        seconds = error.details.get("seconds", settings.login_backoff_seconds)
        raise STS.SIGN_IN_THROTTLED.refuse({"Retry-After": str(seconds)}, seconds=seconds) from None
    except AuthenticationError:
        raise STS.INVALID_CREDENTIALS.refuse() from None
