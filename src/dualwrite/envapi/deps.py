"""Who calls an environment API: ONE dependency turns the request's bearer token into a
`Principal`. Clients present an access token of the token service (a JWT whose audience is the
environment's URL, verified by `identity.tokens.verify_access_token`); dualwrite's own API
tokens (`POST /api/v1/auth/token`, what the CLI holds) are taken too, for the user they name.
A 401 carries the challenge that tells clients where to get a token."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request

from dualwrite.api.deps import SessionDep, request_base
from dualwrite.errors import DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.principals import Principal
from dualwrite.identity.sessions import SessionKind
from dualwrite.identity.tokens import verify_access_token, www_authenticate
from dualwrite.odata.errors import UNAUTHENTICATED, ODataError

# The environment a request is for: its resource URL is the part of the path up to its name.
_RESOURCE = re.compile(r"^/(dataverse|environments)/([^/]+)")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resource_of(request: Request) -> str:
    """The environment's URL as the request reached it, what its tokens' audience must be."""
    found = _RESOURCE.match(request.url.path)
    assert found is not None  # noqa: S101 - only mounted under these two prefixes
    return f"{request_base(request)}/{found[1]}/{found[2]}"


def get_principal(request: Request, session: SessionDep) -> Principal:
    token = _bearer(request)
    resource = resource_of(request)

    def refused(message: str) -> ODataError:
        challenge = www_authenticate(session, request_base(request), resource)
        return ODataError(401, message, UNAUTHENTICATED, headers={"WWW-Authenticate": challenge})

    if token is None:
        raise refused("The request has no bearer token (Authorization header).")
    if _JWT.match(token):
        try:
            return verify_access_token(session, token, resource)
        except DualWriteError as error:
            raise refused(error.message) from None
    try:
        user = sessions.authenticate(session, token, SessionKind.BEARER)
    except DualWriteError:
        raise refused("The bearer token is not valid: it is unknown or has expired.") from None
    return Principal(tenant_id=user.tenant_id, object_id=user.object_id, user_id=user.id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
