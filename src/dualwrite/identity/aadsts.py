"""The identity platform's protocol errors (AADSTS codes) as the token service answers them,
in Microsoft's shape. These are not DW problem details: OAuth clients (MSAL, azure-identity,
requests-oauthlib) read `error`, `error_description` and `error_codes`. One catalogue, so one
code always has one OAuth error, one HTTP status and one message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dualwrite.control.models import utcnow


class StsError(Exception):
    """A token or discovery request refused with an AADSTS reason."""

    def __init__(
        self, reason: StsReason, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"AADSTS{reason.code}: {description}")
        self.reason = reason
        self.description = description
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return self.reason.status

    def body(self, correlation_id: str, now: datetime | None = None) -> dict[str, Any]:
        """Microsoft's error reply: the description repeats trace, correlation and time."""
        trace_id = str(uuid.uuid4())
        stamp = (now or utcnow()).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.reason.error,
            "error_description": f"AADSTS{self.reason.code}: {self.description}\r\n"
            f"Trace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {stamp}",
            "error_codes": [self.reason.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        }


@dataclass(frozen=True)
class StsReason:
    code: int
    error: str  # the OAuth 2.0 error code (RFC 6749, section 5.2)
    status: int
    message: str

    def refuse(self, headers: dict[str, str] | None = None, **values: Any) -> StsError:
        """The error to raise, its message filled from `values`."""
        return StsError(self, self.message.format(**values), headers)


class _Reasons:
    """Every AADSTS reason the token service gives. Codes and texts are Microsoft's."""

    MISSING_PARAMETER = StsReason(
        900144,
        "invalid_request",
        400,
        "The request body must contain the following parameter: '{name}'.",
    )
    ONLY_POST = StsReason(
        900561,
        "invalid_request",
        400,
        "The endpoint only accepts POST, OPTIONS requests. Received a {method} request.",
    )
    MALFORMED_REQUEST = StsReason(
        9002313,
        "invalid_request",
        400,
        "Invalid request. Request is malformed or invalid. {problem}",
    )
    UNSUPPORTED_GRANT = StsReason(
        70003,
        "unsupported_grant_type",
        400,
        "The app requested an unsupported grant type '{grant_type}'. Supported: "
        "client_credentials, password.",
    )
    UNKNOWN_TENANT = StsReason(
        90002,
        "invalid_request",
        400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud.",
    )
    UNKNOWN_TENANT_DISCOVERY = StsReason(
        90002,
        "invalid_tenant",
        400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud.",
    )
    UNKNOWN_CLIENT = StsReason(
        700016,
        "unauthorized_client",
        400,
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
    )
    CLIENT_DISABLED = StsReason(
        7000112, "unauthorized_client", 400, "Application '{client_id}'({name}) is disabled."
    )
    MISSING_SECRET = StsReason(
        7000218,
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    )
    INVALID_SECRET = StsReason(
        7000215,
        "invalid_client",
        401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app "
        "'{client_id}'.",
    )
    EXPIRED_SECRET = StsReason(
        7000222,
        "invalid_client",
        401,
        "The provided client secret keys for app '{client_id}' are expired. Create a new secret "
        "for the app (`dualwrite app rotate {client_id}`, or Power Platform admin > Registered "
        "applications > Rotate secret).",
    )
    INVALID_SCOPE = StsReason(
        70011,
        "invalid_scope",
        400,
        "The provided value for the input parameter 'scope' is not valid. {problem}",
    )
    SCOPE_NOT_DEFAULT = StsReason(
        1002012,
        "invalid_scope",
        400,
        "The provided value for scope {scope} is not valid. Client credential flows must have a "
        "scope value with /.default suffixed to the resource identifier (application ID URI).",
    )
    RESOURCE_NOT_FOUND = StsReason(
        500011,
        "invalid_resource",
        400,
        "The resource principal named {resource} was not found in the tenant named {tenant}. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You might have sent your "
        "authentication request to the wrong tenant.",
    )
    INVALID_CREDENTIALS = StsReason(
        50126,
        "invalid_grant",
        400,
        "Error validating credentials due to invalid username or password.",
    )
    SIGN_IN_THROTTLED = StsReason(
        50053,
        "invalid_grant",
        400,
        "You've tried to sign in too many times with an incorrect user ID or password from this "
        "address. Try again in {seconds} seconds.",
    )

    def reasons(self) -> list[StsReason]:
        return [v for v in vars(type(self)).values() if isinstance(v, StsReason)]


STS = _Reasons()
