"""The environments' API URLs, which are also the resources tokens are issued for (`aud`):
built and read back in one place for the token service, the environment APIs and the pages.

    F&O environment      <base>/environments/<name>              OData under …/data/
    Dataverse            <base>/dataverse/<environment id>       Web API under …/api/data/v9.2/

`<base>` is the server as the client reached it (scheme, host and port): a client configured
with http://127.0.0.1:8000 gets resources and issuers under that, one with https under that.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import FoEnvironment, PlatformEnvironment, Tenant

FO_PATH = "/environments/"
DATAVERSE_PATH = "/dataverse/"
DATAVERSE_WEB_API = "/api/data/v9.2/"
FO_ODATA = "/data/"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ResourceKind(StrEnum):
    FO = "fo"
    DATAVERSE = "dataverse"


@dataclass(frozen=True)
class Resource:
    """An environment as a token audience."""

    url: str  # normalised: no trailing slash, scheme and host in lower case, no default port
    base: str
    kind: ResourceKind
    tenant_id: int
    name: str
    fo_environment_id: int | None = None
    platform_environment_id: str | None = None


def normalise_base(url: str) -> str:
    """scheme://host[:port] of a URL, in lower case and without a default port."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: no base at all
        return ""
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def normalise_resource(url: str) -> str | None:
    """The resource an URL names (as `aud` carries it), or None if it is not an http(s) URL
    without query, fragment or credentials."""
    text = url.strip()
    if "\x00" in text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced [ in the host
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.query or parts.fragment or "@" in parts.netloc or "?" in text or "#" in text:
        return None
    base = normalise_base(text)
    if not base:
        return None
    return base + parts.path.rstrip("/")


def resource_url(base: str, env: FoEnvironment | PlatformEnvironment) -> str:
    """The environment's resource URL: what `scope=<it>/.default` asks a token for."""
    root = normalise_base(base)
    if isinstance(env, FoEnvironment):
        return f"{root}{FO_PATH}{env.name}"
    return f"{root}{DATAVERSE_PATH}{env.id}"


def api_root(base: str, env: FoEnvironment | PlatformEnvironment) -> str:
    """Where the environment's API lives: F&O OData or the Dataverse Web API."""
    suffix = FO_ODATA if isinstance(env, FoEnvironment) else DATAVERSE_WEB_API
    return resource_url(base, env) + suffix


def _resource(base: str, env: FoEnvironment | PlatformEnvironment) -> Resource:
    if isinstance(env, FoEnvironment):
        return Resource(
            resource_url(base, env), base, ResourceKind.FO, env.tenant_id, env.name, env.id
        )
    return Resource(
        resource_url(base, env),
        base,
        ResourceKind.DATAVERSE,
        env.tenant_id,
        env.name,
        platform_environment_id=env.id,
    )


def find_resource(
    session: Session, tenant: Tenant | int | None, url: str, *, base: str | None = None
) -> Resource | None:
    """The environment `url` names, of `tenant` (a tenant or its ID; None: of any tenant,
    where the URL says which), or None when it names none — or one of another tenant, or an
    F&O name that several tenants have (names are unique per tenant only). With `base`, the
    URL must be under it."""
    normalised = normalise_resource(url)
    if normalised is None:
        return None
    root = normalise_base(normalised)
    if base is not None and normalise_base(base) != root:
        return None
    path = normalised[len(root) :]
    for prefix in (FO_PATH, DATAVERSE_PATH):
        key = path[len(prefix) :] if path.startswith(prefix) else ""
        if key and "/" not in key:
            tenant_id = tenant.id if isinstance(tenant, Tenant) else tenant
            env = _environment(session, tenant_id, prefix, key)
            return _resource(root, env) if env is not None else None
    return None


def _environment(
    session: Session, tenant_id: int | None, prefix: str, key: str
) -> FoEnvironment | PlatformEnvironment | None:
    if prefix == FO_PATH:
        fo = select(FoEnvironment).where(FoEnvironment.name == key)
        if tenant_id is not None:
            fo = fo.where(FoEnvironment.tenant_id == tenant_id)
        found = list(session.scalars(fo.limit(2)))
        return found[0] if len(found) == 1 else None
    dataverse = select(PlatformEnvironment).where(
        PlatformEnvironment.id == key.lower(), PlatformEnvironment.has_dataverse.is_(True)
    )
    if tenant_id is not None:
        dataverse = dataverse.where(PlatformEnvironment.tenant_id == tenant_id)
    return session.scalar(dataverse)
