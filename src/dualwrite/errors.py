"""The one error tree and DW catalogue shared by the CLI, the REST API and the web UI.

    DualWriteError                  every error a user can see: code, message, HTTP status, hint
    ├── ValidationError             bad input (400/422); nothing was changed
    │   ├── ConflictError           a name or key already exists (409)
    │   └── TooLargeError           a request body over the server's limit (413)
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
    "TooLargeError",
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


class TooLargeError(ValidationError):
    status = 413


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
    REQUEST_TOO_LARGE = CatalogueEntry(
        "DW1010",
        TooLargeError,
        "The request body is larger than the {limit} bytes this server accepts.",
        "Send less at once (several requests), or raise DUALWRITE_MAX_REQUEST_BYTES.",
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
        "Run `dualwrite init` (or `dualwrite demo`) first{elsewhere}.",
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
    DATABASE_FOLDER = CatalogueEntry(
        "DW2006",
        UnavailableError,
        "Cannot use the folder {folder} for the database at {url}: {problem}.",
        "Point the URL (or DUALWRITE_HOME / --home) at a folder that can be created and written.",
    )
    STORE_LOCATION_RESERVED = CatalogueEntry(
        "DW2007",
        PermissionDeniedError,
        "Naming where a data store lives ({url}) is an installation operator's action.",
        "Leave the database URL out and a data store is created for you; or ask an "
        "installation operator to create the environment on that database.",
    )
    STORE_LOCATION_NOT_ALLOWED = CatalogueEntry(
        "DW2008",
        ValidationError,
        "{url} is outside the locations this installation allows for data stores ({allowed}).",
        "Use a location inside one of them, or allow it in the settings "
        "(DUALWRITE_STORE_DIRECTORIES for SQLite folders, DUALWRITE_STORE_SERVERS for "
        "host:port of PostgreSQL or MariaDB servers); nothing was created.",
    )
    DATA_STORE_TAKEN = CatalogueEntry(
        "DW2009",
        ConflictError,
        "The database at {url} already belongs to another environment.",
        "Every environment needs a database of its own: name another one, or leave the URL out "
        "to get a new one; nothing was created.",
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

    PPI_VALIDATION_FAILED = CatalogueEntry(
        "DW4003",
        ValidationError,
        "Power Platform integration cannot be set up for '{name}': {count} validations failed:"
        "\n  {problems}",
        "Fix each validation named above and run Setup again; nothing was changed.",
    )
    CONFIRMATION_REQUIRED = CatalogueEntry(
        "DW4005",
        ValidationError,
        "This cannot be reversed: {problem}",
        "Type your name exactly as shown ({expected}) to confirm; nothing was changed.",
    )
    PPI_ALREADY_SET_UP = CatalogueEntry(
        "DW4006",
        InvalidStateError,
        "Power Platform integration of '{name}' is already set up with '{platform}'; it cannot be "
        "reversed or changed.",
        "Use the environment's Dataverse as it is.",
    )
    JOB_IN_PROGRESS = CatalogueEntry(
        "DW4007",
        InvalidStateError,
        "'{kind}' is already running on environment '{name}' (job {job}).",
        "Wait for it to finish (`dualwrite env jobs {name}`), then try again.",
    )
    GEOGRAPHY_MISMATCH = CatalogueEntry(
        "DW4010",
        ValidationError,
        "Power Platform environment '{platform}' is in {platform_geography}, but '{name}' is "
        "deployed in {region}, which is {geography}.",
        "Choose a Power Platform environment in {geography}, or set up with a new Dataverse.",
    )
    CANNOT_CREATE_ENVIRONMENTS = CatalogueEntry(
        "DW4011",
        PermissionDeniedError,
        "Your tenant does not let everyone create Power Platform environments, and you are "
        "neither Dynamics 365 Service administrator nor Power Platform administrator.",
        "Ask a Global administrator to grant you one of those roles.",
    )
    NOT_DATAVERSE_ADMIN = CatalogueEntry(
        "DW4012",
        PermissionDeniedError,
        "You need System Administrator permissions in the Dataverse of '{platform}'.",
        "Ask an administrator of that environment to add you "
        "(`dualwrite platform add-admin '{platform}' <your upn>`).",
    )
    NOT_ENVIRONMENT_MANAGER = CatalogueEntry(
        "DW4013",
        PermissionDeniedError,
        "You need the Environment manager or Project owner role in Lifecycle Services project "
        "'{project}'.",
        "Ask a Project owner of '{project}' to give you one of those roles.",
    )
    WRONG_TENANT = CatalogueEntry(
        "DW4014",
        PermissionDeniedError,
        "You are signed in with an account of {yours}, but project '{project}' is owned by "
        "{owner}.",
        "Sign in with an account from {owner}.",
    )
    NO_QUALIFYING_LICENSE = CatalogueEntry(
        "DW4015",
        PermissionDeniedError,
        "No qualifying license is assigned to {upn}.",
        "Assign one of these licenses (`dualwrite license assign`): {known}.",
    )
    DATAVERSE_TAKEN = CatalogueEntry(
        "DW4016",
        ConflictError,
        "The Dataverse of '{platform}' is already integrated with finance and operations "
        "environment '{other}'.",
        "Choose another Power Platform environment, or set up with a new Dataverse.",
    )
    TERMS_NOT_ACCEPTED = CatalogueEntry(
        "DW4020",
        ValidationError,
        "The terms and conditions of the dual-write application were not accepted.",
        "Review the terms and accept them to Configure (`--accept-terms`); nothing was changed.",
    )
    PPI_NOT_SET_UP = CatalogueEntry(
        "DW4021",
        InvalidStateError,
        "Power Platform integration of '{name}' is not set up with a Dataverse.",
        "Set it up first: environment details > Power Platform Integration > Setup "
        "(`dualwrite env ppi setup {name}`).",
    )
    DUALWRITE_APP_MISSING = CatalogueEntry(
        "DW4022",
        InvalidStateError,
        "The dual-write application is not installed for '{name}' and '{platform}'.",
        "Select Dual-write application on the environment details page "
        "(`dualwrite env dualwrite-app {name} --accept-terms`).",
    )
    CONSENT_REQUIRED = CatalogueEntry(
        "DW4023",
        ValidationError,
        "Creating the link needs your consent to the privacy notice.",
        "Review the summary and the privacy notice, then consent (`--consent`); nothing was "
        "changed.",
    )
    JOB_INTERRUPTED = CatalogueEntry(
        "DW4024",
        InvalidStateError,
        "The job stopped without finishing (the server was stopped or crashed); nothing it was "
        "doing was kept.",
        "Start it again.",
    )
    SERVICE_PRINCIPAL = CatalogueEntry(
        "DW9003",
        PermissionDeniedError,
        "Failed to connect to {target}. Ensure that the service principal has the correct "
        "permissions to access {target}.",
        "{fix}",
    )
    STOP_UNAVAILABLE = CatalogueEntry(
        "DW9404",
        PermissionDeniedError,
        '[Forbidden], [{{"status":403,"source":"","message":"Error from token exchange: User is '
        'not allowed to access connection dynamicscrmonline/{connection}"}}], The remote server '
        "returned an error: (403) Forbidden.",
        "The linked Dataverse environment '{platform}' isn't available ({problem}); changes keep "
        "being captured and catch up when it returns. A tenant administrator can mark the maps "
        "Not running now (`dualwrite maps force-stop {env} <map> --reason …`); no ticket needed.",
    )
    UNAUTHORIZED_MAP = CatalogueEntry(
        "DW9401",
        AuthenticationError,
        "Response status code does not indicate success: 401 (Unauthorized).",
        "Only a tenant (Global) administrator can add a new table map: sign in as one.",
    )
    TOKEN_EXCHANGE = CatalogueEntry(
        "DW9403",
        PermissionDeniedError,
        "Response status code does not indicate success: 403 (tokenexchange).\n"
        "Session ID: {session_id}\nRoot activity ID: {activity_id}",
        "{action} needs a tenant (Global) administrator account. After setup, a user with the "
        "Dual-write user role can monitor status and edit mappings.",
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

    MAPS_NOT_STOPPED = CatalogueEntry(
        "DW5008",
        InvalidStateError,
        "Cannot reset the link of '{name}': table maps {maps} are not stopped.",
        "Stop them first (`dualwrite maps stop`), then reset the link.",
    )
    MAP_MUST_BE_STOPPED = CatalogueEntry(
        "DW5012",
        InvalidStateError,
        "Table map '{name}' is {state}; its field mappings can only be edited when it is Not "
        "running.",
        "Stop the map, edit the mapping, then run it again (with initial sync if the change "
        "should apply to existing records).",
    )
    HEALTH_CHECK_FAILED = CatalogueEntry(
        "DW5010",
        ValidationError,
        "The health check failed ({count} of {total} checks):\n  {problems}",
        "Fix each failed check and run the health check again; no link was created.",
    )
    ALREADY_LINKED = CatalogueEntry(
        "DW5011",
        ConflictError,
        "Environment '{name}' is already linked to '{platform}'.",
        "To change it, stop its maps and reset the link (`dualwrite link reset {name}`), then "
        "link again.",
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
    NO_SYNC_ERROR = CatalogueEntry(
        "DW5013",
        NotFoundError,
        "There is no error {id} in the error log of '{name}'{where}.",
        "`dualwrite errors list {name}` (or the Errors section of a table map's page) lists the "
        "open errors with their IDs.",
    )
    SYNC_WRITE_FAILED = CatalogueEntry(
        "DW5014",
        ValidationError,
        "Cannot save the changes to the database. Unit of Work can not commit transaction. "
        "Unable to write data to entity {entity}. Writes to table map '{map}' failed with error "
        "message {reason}",
        "Nothing was saved on either side (synchronous dual-write). Fix the record, or create "
        "what it looks up first, and write it again.",
    )
    SYNC_TOO_MANY = CatalogueEntry(
        "DW5015",
        ValidationError,
        "{count} records in one synchronous dual-write transaction; the limit is {limit}.",
        "Write at most {limit} records per transaction (or per $batch change set); nothing was "
        "saved.",
    )
    SYNC_TIMEOUT = CatalogueEntry(
        "DW5016",
        UnavailableError,
        "The synchronous dual-write transaction took longer than {seconds} seconds (at table "
        "map '{map}'); nothing was saved.",
        "Write fewer records per transaction, or look at why the other side is slow.",
    )
    STREAM_UNREACHABLE = CatalogueEntry(
        "DW5017",
        UnavailableError,
        "Cannot reach NATS JetStream at {url}: {problem}",
        "Check that nats-server runs with JetStream (-js) at that URL; meanwhile changes wait "
        "in the source's change log and nothing is lost.",
    )
    STREAM_NEEDS_SERVER_STORE = CatalogueEntry(
        "DW5018",
        InvalidStateError,
        "Workers that share the maps over a stream ({stream}) need a control store on a "
        "database server; this one is a SQLite file that only one machine can use.",
        "Set DUALWRITE_DATABASE_URL to a PostgreSQL (or MariaDB) control store for every worker "
        "and `dualwrite serve`, or run one worker without --stream.",
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
        "Too many failed sign-ins from this address.",
        "Wait {seconds} seconds before trying again (each further failure doubles the wait).",
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
    DUALWRITE_REGISTRATION = CatalogueEntry(
        "DW3007",
        InvalidStateError,
        "Application '{name}' ({client_id}) is the dual-write application of {pairs}; its "
        "registration cannot be deleted.",
        "Disable it instead (`dualwrite app update {client_id} --disabled`), or disable its "
        "application users (`dualwrite env app-user`).",
    )
    INVALID_ACCESS_TOKEN = CatalogueEntry(
        "DW3008",
        AuthenticationError,
        "The access token is not valid for {audience}: {problem}.",
        "Request a new token for scope '{audience}/.default' from the tenant's token endpoint "
        "(<server>/<tenant>/oauth2/v2.0/token).",
    )
    DUALWRITE_APP_USER = CatalogueEntry(
        "DW3009",
        InvalidStateError,
        "The application user of '{name}' in '{environment}' is the dual-write application's; "
        "it is granted and revoked with the dual-write application.",
        "Change it with `dualwrite env app-user <F&O environment> --side fo|dataverse "
        "--enabled/--disabled`.",
    )
    ACTIVE_SIGNING_KEY = CatalogueEntry(
        "DW3010",
        InvalidStateError,
        "Signing key {kid} is the active one: new tokens are signed with it.",
        "Rotate first (`dualwrite app keys rotate`), then retire it once the tokens it signed "
        "have expired (after an hour).",
    )

    def entries(self) -> list[CatalogueEntry]:
        return [v for v in vars(type(self)).values() if isinstance(v, CatalogueEntry)]


ERR = _Catalogue()
CATALOGUE: dict[str, CatalogueEntry] = {e.code: e for e in ERR.entries()}
