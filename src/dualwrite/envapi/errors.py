"""Errors of the environment APIs in each platform's shape.

Dataverse: `{"error":{"code":"0x…","message":"…"}}`. Finance and operations: `{"error":{"code":
"","message":"…","innererror":{"message":"…","type":"…","stacktrace":""}}}`; a refused write
reads "Write failed for table row of type '<Entity>'. Infolog: Error: <reason>." as F&O's do."""

from __future__ import annotations

import logging
from enum import StrEnum

from dualwrite.envapi.fomodel import internal_entity
from dualwrite.envapi.writes import WriteError
from dualwrite.odata.errors import UNEXPECTED, ODataError
from dualwrite.odata.values import dumps

log = logging.getLogger("dualwrite.envapi")
JSON = "application/json; odata.metadata=minimal"


class Platform(StrEnum):
    DATAVERSE = "dataverse"
    FO = "fo"


def error_body(platform: Platform, error: ODataError) -> bytes:
    if platform is Platform.DATAVERSE:
        return dumps({"error": {"code": error.code, "message": error.message}})
    if isinstance(error, WriteError):
        inner = (
            f"Write failed for table row of type '{internal_entity(error.entity.table.name)}'. "
            f"Infolog: Error: {error.reason}"
        )
        message = "An error has occurred."
    else:
        inner, message = error.message, error.message
    return dumps(
        {
            "error": {
                "code": "",
                "message": message,
                "innererror": {"message": inner, "type": type(error).__name__, "stacktrace": ""},
            }
        }
    )


def error_headers(error: ODataError) -> dict[str, str]:
    if error.status == 401 and "WWW-Authenticate" not in error.headers:
        return {**error.headers, "WWW-Authenticate": 'Bearer error="invalid_token"'}
    return error.headers


def unexpected(exc: Exception, method: str, path: str) -> ODataError:
    """An error we did not foresee: logged with its traceback, answered without details."""
    log.error(
        "unexpected error on %s %s",
        method,
        path,
        exc_info=exc,
        extra={"method": method, "path": path},
    )
    return ODataError(500, "An unexpected error occurred.", UNEXPECTED)


def platform_of(path: str) -> Platform:
    return Platform.DATAVERSE if path.startswith("/dataverse/") else Platform.FO
