"""Who calls an environment API: ONE dependency turns the request's bearer token into a
`Principal`. Today the token is one of `/api/v1/auth/token` (a signed-in user); the OAuth2
token service's JWT verification (`verify_access_token(session, token, audience)`) replaces
the body of `get_principal` — nothing else needs to change."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from dualwrite.api.deps import SessionDep
from dualwrite.errors import DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.principals import Principal
from dualwrite.identity.sessions import SessionKind
from dualwrite.odata.errors import UNAUTHENTICATED, ODataError

# Users have no directory object ID in the control store yet: derive a stable one.
_USER_OBJECTS = uuid.UUID("2f0c8a8e-6a53-4b43-9a39-5c1f0e7c2d10")


def user_object_id(user_id: int) -> str:
    return str(uuid.uuid5(_USER_OBJECTS, f"user:{user_id}"))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def get_principal(request: Request, session: SessionDep) -> Principal:
    token = _bearer(request)
    if token is None:
        raise ODataError(
            401, "The request has no bearer token (Authorization header).", UNAUTHENTICATED
        )
    try:
        user = sessions.authenticate(session, token, SessionKind.BEARER)
    except DualWriteError:
        raise ODataError(
            401, "The bearer token is not valid: it is unknown or has expired.", UNAUTHENTICATED
        ) from None
    return Principal(tenant_id=user.tenant_id, object_id=user_object_id(user.id), user_id=user.id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
