"""Access tokens of the environment APIs: minted as Entra mints them (RS256 JWTs with its
claims), verified by an environment API, and the challenge its 401 answers carry.

The environment APIs call two functions here:

    principal = verify_access_token(session, token, audience=resource_url(base, env))
    response.headers["WWW-Authenticate"] = www_authenticate(session, base, resource)
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import RegisteredApplication, Tenant, User, utcnow
from dualwrite.errors import ERR
from dualwrite.identity import signing
from dualwrite.identity.principals import Principal
from dualwrite.identity.resources import Resource, find_resource, normalise_base, normalise_resource
from dualwrite.settings import Settings

ACCESS_TOKEN_SECONDS = 3600
LEEWAY_SECONDS = 60  # clocks of this server's processes differ by little more than none
USER_SCOPE = "user_impersonation"
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "tid", "oid", "ver"]


class TokenVersion(StrEnum):
    """v1 tokens (…/oauth2/token, `resource=`) and v2 tokens (…/oauth2/v2.0/token, `scope=`)."""

    V1 = "1.0"
    V2 = "2.0"


def issuer(base: str, tenant: Tenant, version: TokenVersion) -> str:
    """Entra's issuers on our server: `<base>/<tenant id>/v2.0`, and for v1 `<base>/<id>/`
    (where Entra has https://sts.windows.net/<id>/)."""
    root = f"{normalise_base(base)}/{tenant.directory_id}/"
    return root + "v2.0" if version is TokenVersion.V2 else root


@dataclass(frozen=True)
class Minted:
    access_token: str
    issued_at: int
    expires_on: int
    id_token: str | None = None

    @property
    def expires_in(self) -> int:
        return self.expires_on - self.issued_at - 1  # 3599, as Entra says


def sign(session: Session, settings: Settings, claims: dict[str, Any]) -> str:
    """Claims signed with the active key, its `kid` and `x5t` in the header."""
    key = signing.signer(session, settings)
    return jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "x5t": key.kid}
    )


def _times() -> dict[str, int]:
    now = int(utcnow().timestamp())
    return {"iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_SECONDS}


def _common(base: str, tenant: Tenant, resource: Resource, version: TokenVersion) -> dict[str, Any]:
    iss = issuer(base, tenant, version)
    return {"aud": resource.url, "iss": iss, **_times(), "idp": iss, "tid": tenant.directory_id}


def _client(app: RegisteredApplication, version: TokenVersion, with_secret: bool) -> dict[str, str]:
    acr = "1" if with_secret else "0"  # 1: the client proved itself with a secret
    if version is TokenVersion.V2:
        return {"azp": app.client_id, "azpacr": acr}
    return {"appid": app.client_id, "appidacr": acr}


def mint_app_token(
    session: Session,
    settings: Settings,
    *,
    base: str,
    tenant: Tenant,
    app: RegisteredApplication,
    resource: Resource,
    version: TokenVersion,
    roles: list[str],
) -> Minted:
    """An app-only token (client credentials): the service principal is `oid` and `sub`."""
    claims = {
        **_common(base, tenant, resource, version),
        **_client(app, version, with_secret=True),
        "idtyp": "app",
        "oid": app.object_id,
        "sub": app.object_id,
        "uti": _uti(),
        "ver": version.value,
    }
    if roles:
        claims["roles"] = roles
    return Minted(sign(session, settings, claims), claims["iat"], claims["exp"])


def _pairwise(user: User, app: RegisteredApplication) -> str:
    """Entra's `sub` of a user differs per application (`subject_types_supported: pairwise`)."""
    digest = hashlib.sha256(f"{user.object_id}:{app.client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mint_user_token(
    session: Session,
    settings: Settings,
    *,
    base: str,
    tenant: Tenant,
    user: User,
    app: RegisteredApplication,
    resource: Resource,
    version: TokenVersion,
    with_secret: bool,
    id_token: bool = False,
) -> Minted:
    """A delegated token (password grant) for `user` through `app`; with `id_token`, the
    OpenID Connect ID token too (v2, when the scope asked for openid)."""
    claims = {
        **_common(base, tenant, resource, version),
        **_client(app, version, with_secret),
        "amr": ["pwd"],
        "idtyp": "user",
        "name": user.display_name,
        "oid": user.object_id,
        "scp": USER_SCOPE,
        "sub": _pairwise(user, app),
        "upn": user.upn,
        "uti": _uti(),
        "ver": version.value,
    }
    claims["unique_name" if version is TokenVersion.V1 else "preferred_username"] = user.upn
    identity = None
    if id_token:
        identity = sign(
            session,
            settings,
            {
                "aud": app.client_id,
                "iss": issuer(base, tenant, TokenVersion.V2),
                **_times(),
                "name": user.display_name,
                "oid": user.object_id,
                "preferred_username": user.upn,
                "sub": claims["sub"],
                "tid": tenant.directory_id,
                "ver": TokenVersion.V2.value,
            },
        )
    return Minted(sign(session, settings, claims), claims["iat"], claims["exp"], identity)


def client_info(user: User, tenant: Tenant) -> str:
    """What MSAL asks for with `client_info=1`: the account's home IDs."""
    payload = json.dumps({"uid": user.object_id, "utid": tenant.directory_id}).encode()
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def _uti() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


# --- verification, for the environment APIs ------------------------------------------------


def _refuse(audience: str, problem: str) -> Exception:
    return ERR.INVALID_ACCESS_TOKEN.error(audience=audience, problem=problem)


def _claims(session: Session, token: str, audience: str) -> dict[str, Any]:
    """The token's claims once its signature, times and audience hold."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _refuse(audience, "it is not a JWT") from None
    kid = header.get("kid")
    key = signing.public_key(session, kid) if isinstance(kid, str) and kid else None
    if key is None:
        raise _refuse(audience, "it is signed with an unknown or retired key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError:
        raise _refuse(audience, "it has expired") from None
    except jwt.ImmatureSignatureError:
        raise _refuse(audience, "it is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise _refuse(audience, "it was issued for another audience") from None
    except jwt.InvalidSignatureError:
        raise _refuse(audience, "its signature does not match its content") from None
    except jwt.MissingRequiredClaimError as error:
        raise _refuse(audience, f"it has no '{error.claim}' claim") from None
    except jwt.PyJWTError:
        raise _refuse(audience, "it cannot be read") from None
    return claims


def verify_access_token(session: Session, token: str, audience: str) -> Principal:
    """Who presents `token` to the environment API whose resource URL is `audience`
    (`resource_url(base, env)`, the URL the request came in on).

    Checks the RS256 signature with the key its `kid` names (published, not retired), `exp`
    and `nbf` (with a leeway of a minute), `aud` (the resource URL, without trailing slash),
    that `iss` is the tenant's v1 or v2 issuer under the same server, that the tenant exists
    and the environment is of that tenant, and that the user (`idtyp: user`) is still there
    and active or the application (`idtyp: app`) is still registered and enabled.

    Raises DW3008 (`ERR.INVALID_ACCESS_TOKEN`, 401) saying what is wrong; answer it with the
    `www_authenticate` challenge. Whether the principal may use the environment is the API's
    next question: `environment_access.security_roles(session, principal, resource)`.
    """
    target = normalise_resource(audience)
    if target is None:
        raise _refuse(audience, "that is not an environment's URL")
    claims = _claims(session, token, target)
    tid = claims["tid"]
    tenant = session.scalar(select(Tenant).where(Tenant.directory_id == str(tid)))
    if tenant is None:
        raise _refuse(target, "its tenant does not exist")
    resource = find_resource(session, tenant, target)
    if resource is None:
        raise _refuse(target, "it was issued by another tenant than the environment's")
    if claims["iss"] not in {issuer(resource.base, tenant, v) for v in TokenVersion}:
        raise _refuse(target, "it was issued by another issuer")
    oid = str(claims["oid"])
    if claims.get("idtyp") == "app":
        return _application(session, tenant, claims, oid, target)
    user = session.scalar(select(User).where(User.object_id == oid, User.tenant_id == tenant.id))
    if user is None:
        raise _refuse(target, "its user no longer exists")
    if not user.is_active:
        raise _refuse(target, "its user is disabled")
    return Principal(tenant_id=tenant.id, object_id=oid, user_id=user.id)


def _application(
    session: Session, tenant: Tenant, claims: dict[str, Any], oid: str, target: str
) -> Principal:
    client_id = str(claims.get("azp") or claims.get("appid") or "")
    app = session.scalar(
        select(RegisteredApplication).where(
            RegisteredApplication.client_id == client_id,
            RegisteredApplication.object_id == oid,
            RegisteredApplication.tenant_id == tenant.id,
        )
    )
    if app is None:
        raise _refuse(target, "its application is no longer registered")
    if not app.enabled:
        raise _refuse(target, "its application is disabled")
    return Principal(tenant_id=tenant.id, object_id=oid, app_id=app.client_id)


def bearer_challenge(base: str, tenant_directory_id: str, resource: str) -> str:
    """Dataverse's WWW-Authenticate of a 401, from which clients learn where to get a token:
    `Bearer authorization_uri=<base>/<tenant id>/oauth2/authorize, resource_id=<resource>/`."""
    url = normalise_resource(resource) or resource.rstrip("/")
    root = normalise_base(base)
    authority = f"{root}/{tenant_directory_id}/oauth2/authorize"
    return f"Bearer authorization_uri={authority}, resource_id={url}/"


def www_authenticate(session: Session, base: str, resource: str) -> str:
    """The challenge for the environment at `resource` (its URL), for Dataverse and F&O alike:
    Microsoft documents Dataverse's; F&O documents none, and clients that learn the authority
    from a 401 read this one. F&O environment names are unique per tenant only: where several
    tenants have the name, or none does, the challenge names the `common` authority."""
    found = find_resource(session, None, resource)
    tenant = session.get(Tenant, found.tenant_id) if found is not None else None
    return bearer_challenge(base, tenant.directory_id if tenant else "common", resource)
