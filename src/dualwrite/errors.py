"""The one error tree and DW catalogue shared by the CLI, the REST API and the web UI.

    DualWriteError                  every error a user can see: code, message, HTTP status, hint
    ├── ValidationError             bad input (400/422); nothing was changed
    │   └── ConflictError           a name or key already exists (409)
    ├── NotFoundError               the thing named does not exist (404)
    ├── AuthenticationError         not signed in / wrong credentials (401)
    │   └── ThrottledError          too many failed sign-ins (429)
    ├── PermissionDeniedError       signed in but not allowed (403)
    ├── InvalidStateError           the action is not allowed in the current state (409)
    └── UnavailableError            a database or service cannot be reached; transient (503)

Each error is raised from a catalogue entry (`raise ERR.DUPLICATE_NAME.error(kind="tenant", ...)`)
so that one code always has one message shape, one status and one hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "CATALOGUE",
    "ERR",
    "AuthenticationError",
    "CatalogueEntry",
    "ConflictError",
    "DualWriteError",
    "InvalidStateError",
    "NotFoundError",
    "PermissionDeniedError",
    "ThrottledError",
    "UnavailableError",
    "ValidationError",
]


class DualWriteError(Exception):
    """Root of every error shown to a user."""

    status: ClassVar[int] = 500
    transient: ClassVar[bool] = False

    def __init__(
        self, code: str, message: str, hint: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(DualWriteError):
    status = 422


class ConflictError(ValidationError):
    status = 409


class NotFoundError(DualWriteError):
    status = 404


class AuthenticationError(DualWriteError):
    status = 401


class ThrottledError(AuthenticationError):
    status = 429


class PermissionDeniedError(DualWriteError):
    status = 403


class InvalidStateError(DualWriteError):
    status = 409


class UnavailableError(DualWriteError):
    status = 503
    transient = True


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    kind: type[DualWriteError]
    message: str
    hint: str

    @property
    def status(self) -> int:
        return self.kind.status

    def error(self, **values: Any) -> DualWriteError:
        """Build the error, filling `{placeholders}` of message and hint from `values`."""
        return self.kind(
            self.code,
            self.message.format(**values),
            self.hint.format(**values),
            details={k: v for k, v in values.items() if isinstance(v, str | int | float | bool)},
        )


class _Catalogue:
    """Every DW error code. Codes are stable: never reuse or renumber one."""

    INTERNAL = CatalogueEntry(
        "DW0000",
        DualWriteError,
        "Something went wrong on our side; nothing you sent was half-applied.",
        "Try again; if it persists, the server log has the details.",
    )

    # DW1xxx: input and lookups
    INVALID_INPUT = CatalogueEntry(
        "DW1000", ValidationError, "{field}: {problem}", "Correct {field} and try again."
    )
    DUPLICATE_NAME = CatalogueEntry(
        "DW1001",
        ConflictError,
        "A {kind} named '{name}' already exists.",
        "Choose another name, or use the existing {kind}.",
    )
    NOT_FOUND = CatalogueEntry(
        "DW1002",
        NotFoundError,
        "No {kind} named '{name}' was found.",
        "Check the spelling; `dualwrite {noun} list` shows what exists.",
    )
    NO_SUCH_ROUTE = CatalogueEntry(
        "DW1009",
        NotFoundError,
        "There is no {method} {path}.",
        "The API's routes are listed at /docs.",
    )
    UNKNOWN_REGION = CatalogueEntry(
        "DW1003",
        ValidationError,
        "'{region}' is not a known Azure region.",
        "Use one of: {known}.",
    )
    UNKNOWN_LICENSE = CatalogueEntry(
        "DW1004",
        ValidationError,
        "'{sku}' is not a license in the catalogue.",
        "Use one of: {known}.",
    )
    UNKNOWN_ROLE = CatalogueEntry(
        "DW1005", ValidationError, "'{role}' is not a known {kind} role.", "Use one of: {known}."
    )
    NOT_INITIALISED = CatalogueEntry(
        "DW1006",
        NotFoundError,
        "The control store at {where} has not been initialised.",
        "Run `dualwrite init` (or `dualwrite demo`) first.",
    )
    ALREADY_INITIALISED = CatalogueEntry(
        "DW1007",
        ConflictError,
        "The control store at {where} is already initialised.",
        "Sign in with the existing administrator, or point DUALWRITE_HOME at an empty folder.",
    )
    CROSS_TENANT = CatalogueEntry(
        "DW1008",
        ValidationError,
        "{kind} '{name}' belongs to another tenant.",
        "Use a {kind} of tenant {tenant}.",
    )

    # DW2xxx: databases
    BAD_DATABASE_URL = CatalogueEntry(
        "DW2001",
        ValidationError,
        "'{url}' is not a usable database URL: {problem}",
        "Use sqlite:///path/file.db, postgresql+psycopg://user@host:5432/db or "
        "mysql+pymysql://user@host:3306/db.",
    )
    DATABASE_UNREACHABLE = CatalogueEntry(
        "DW2002",
        UnavailableError,
        "Cannot connect to the database at {url}: {problem}",
        "Check that the server is running and that host, port, user and database are right.",
    )
    DATA_STORE_INCOMPLETE = CatalogueEntry(
        "DW2003",
        ConflictError,
        "The database at {url} holds only part of a {side} data store: {problems}.",
        "Point the environment at an empty database or at one with the complete schema; "
        "nothing was created.",
    )
    ENVIRONMENT_DOWNTIME = CatalogueEntry(
        "DW2004",
        InvalidStateError,
        "Environment '{name}' is in downtime ({reason}); writes are refused, reads still work.",
        "Wait for the running operation to finish, then try again.",
    )

    # DW4xxx: Power Platform
    INSUFFICIENT_CAPACITY = CatalogueEntry(
        "DW4001",
        ValidationError,
        "The tenant has {free} GB of free Power Platform database capacity; {needed} GB is needed.",
        "Free capacity by deleting unused environments, or raise the tenant's capacity "
        "(now {total} GB) in the Power Platform settings.",
    )

    # DW5xxx: table maps and the sync engine
    INVALID_MAP_ACTION = CatalogueEntry(
        "DW5001",
        InvalidStateError,
        "Cannot {action} table map '{name}': it is {state}.",
        "Actions allowed now: {allowed}.",
    )
    INVALID_MAP_ACTION_MANY = CatalogueEntry(
        "DW5002",
        InvalidStateError,
        "Cannot {action} the {count} selected table maps: {problems}. No map was changed.",
        "Select only maps that allow '{action}', or act on them one by one.",
    )

    NO_DATAVERSE = CatalogueEntry(
        "DW4002",
        InvalidStateError,
        "Power Platform environment '{name}' has no Dataverse.",
        "Use an environment with Dataverse, or set up Power Platform integration with one.",
    )

    NOT_LINKED = CatalogueEntry(
        "DW5004",
        NotFoundError,
        "Environment '{name}' is not linked to a Dataverse for dual-write.",
        "Create the link first (Data management > Dual Write > New link to environment).",
    )
    NO_MAPS = CatalogueEntry(
        "DW5005",
        NotFoundError,
        "No table map named '{name}' is published on this link.",
        "Apply the dual-write application orchestration solution, or check the map's name.",
    )
    WORKER_TIMEOUT = CatalogueEntry(
        "DW5006",
        UnavailableError,
        "The table maps did not reach Running within {seconds} seconds.",
        "Check that the sync worker runs (`dualwrite serve` or `dualwrite worker`) and look at "
        "`dualwrite maps list` for errors.",
    )
    MAP_INVALID = CatalogueEntry(
        "DW5003",
        ValidationError,
        "{source} has {count} problem(s):\n  {problems}",
        "Fix each problem named above (file > map > field); nothing was loaded.",
    )

    # DW3xxx: identity
    SIGN_IN_FAILED = CatalogueEntry(
        "DW3001",
        AuthenticationError,
        "The user name or password is incorrect.",
        "Check both and try again.",
    )
    SIGN_IN_THROTTLED = CatalogueEntry(
        "DW3002",
        ThrottledError,
        "Too many failed sign-ins for this account.",
        "Wait {seconds} seconds before trying again.",
    )
    NOT_SIGNED_IN = CatalogueEntry(
        "DW3003",
        AuthenticationError,
        "You are not signed in, or your session has expired.",
        "Sign in again (`dualwrite login`, or the sign-in page).",
    )
    NOT_ALLOWED = CatalogueEntry(
        "DW3004",
        PermissionDeniedError,
        "{action} requires {requirement}.",
        "Ask a {who} to do it, or to grant you the role.",
    )
    CSRF_FAILED = CatalogueEntry(
        "DW3005",
        PermissionDeniedError,
        "The form's security token is missing or does not match your session.",
        "Reload the page and submit the form again.",
    )
    WEAK_PASSWORD = CatalogueEntry(
        "DW3006",
        ValidationError,
        "The password is too weak: {problem}",
        "Use at least 12 characters.",
    )

    def entries(self) -> list[CatalogueEntry]:
        return [v for v in vars(type(self)).values() if isinstance(v, CatalogueEntry)]


ERR = _Catalogue()
CATALOGUE: dict[str, CatalogueEntry] = {e.code: e for e in ERR.entries()}
