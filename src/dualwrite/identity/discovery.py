"""What clients read before asking for a token, in Entra's shapes: the OpenID Connect
configuration (v2 and v1), the signing keys (JWKS) and the user realm MSAL looks up before a
password grant."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from dualwrite.control.models import Tenant
from dualwrite.identity import signing
from dualwrite.identity.aadsts import STS
from dualwrite.identity.directory import find_tenant
from dualwrite.identity.resources import normalise_base
from dualwrite.identity.tokens import TokenVersion, issuer

COMMON = "common"  # the tenant-less authority: keys only
AUTH_METHODS = ["client_secret_post", "client_secret_basic"]
GRANT_TYPES = ["client_credentials", "password"]
_CLAIMS = ["sub", "iss", "aud", "exp", "iat", "nbf", "name", "oid", "tid", "upn", "ver"]


def tenant_of(session: Session, key: str) -> Tenant:
    """The tenant a discovery route names by domain or ID, or AADSTS90002 (invalid_tenant)."""
    tenant = find_tenant(session, key)
    if tenant is None:
        raise STS.UNKNOWN_TENANT_DISCOVERY.refuse(tenant=key)
    return tenant


def _host(base: str) -> str:
    return urlsplit(normalise_base(base)).hostname or ""


def openid_configuration(base: str, tenant: Tenant, version: TokenVersion) -> dict[str, Any]:
    """`{authority}/v2.0/.well-known/openid-configuration`, v1 without `/v2.0`. Endpoints name
    the tenant by its ID, as Entra's do (MSAL reads the tenant from `token_endpoint`)."""
    authority = f"{normalise_base(base)}/{tenant.directory_id}"
    v2 = version is TokenVersion.V2
    oauth2 = f"{authority}/oauth2/v2.0" if v2 else f"{authority}/oauth2"
    return {
        "token_endpoint": f"{oauth2}/token",
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "jwks_uri": f"{authority}/discovery/v2.0/keys"
        if v2
        else f"{normalise_base(base)}/{COMMON}/discovery/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"]
        if v2
        else ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"] if v2 else ["openid"],
        "issuer": issuer(base, tenant, version),
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{oauth2}/authorize",
        "grant_types_supported": GRANT_TYPES,
        "claims_supported": _CLAIMS,
        "tenant_region_scope": None,
        "cloud_instance_name": _host(base),
    }


def keys(
    session: Session, base: str, tenant: Tenant | None, version: TokenVersion
) -> dict[str, Any]:
    """The published signing keys. v2 keys name their issuer: the tenant's, or for `common`
    Entra's template with `{tenantid}` in it."""
    if version is TokenVersion.V1:
        named = None
    elif tenant is None:
        named = f"{normalise_base(base)}/{{tenantid}}/v2.0"
    else:
        named = issuer(base, tenant, TokenVersion.V2)
    return {"keys": [signing.jwk(row, named) for row in signing.published_keys(session)]}


def user_realm(session: Session, base: str, username: str) -> dict[str, Any]:
    """`/common/userrealm/<user>`: MSAL asks whether the account is federated before a
    password grant; every tenant here is managed (its passwords are checked here)."""
    domain = username.rsplit("@", 1)[-1] if "@" in username else ""
    tenant = find_tenant(session, domain) if domain else None
    realm: dict[str, Any] = {"ver": "1.0", "account_type": "Managed" if tenant else "Unknown"}
    if tenant is not None:
        realm["domain_name"] = tenant.domain
    realm["cloud_instance_name"] = _host(base)
    if tenant is not None:
        realm["cloud_audience_urn"] = "urn:federation:MicrosoftOnline"
    return realm
