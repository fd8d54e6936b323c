"""Read and write shapes shared by the REST API and the CLI's --json output (one contract)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dualwrite.bounds import MAX_ALERT_WINDOW_MINUTES, MAX_BIGINT, MAX_INT
from dualwrite.checks import Check
from dualwrite.control.models import (
    ApplicationUser,
    DualWriteLink,
    FoEnvironment,
    Job,
    PlatformEnvironment,
    Project,
    User,
)
from dualwrite.databases import display_url

NO_MAPS_NOTICE = (
    "No table maps are published on this link. Apply the Dual-write application orchestration "
    "solution (Apply Solution) to publish the default table maps."
)


def dualwrite_page_path(environment: str) -> str:
    """The F&O environment's Dual-write page in the web UI (the link LCS shows once linked)."""
    return f"/environments/{environment}/dualwrite"


def application_users_page_path(
    environment: str, dataverse: str, legal_entities: Sequence[str] = ()
) -> str:
    """Where the web UI fixes DW9003 for an F&O environment and a Dataverse; the wizard's
    legal entities come along so the page can rerun its health check."""
    query = urlencode([("dataverse", dataverse), *(("legal_entities", e) for e in legal_entities)])
    return f"/environments/{quote(environment)}/application-users?{query}"


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TenantRead(_Read):
    domain: str
    display_name: str
    everyone_can_create_environments: bool
    database_capacity_gb: float


class TenantCreate(BaseModel):
    domain: str = Field(examples=["fabrikam.onmicrosoft.com"])
    display_name: str
    admin_upn: str = Field(examples=["admin@fabrikam.onmicrosoft.com"])
    admin_name: str
    admin_password: str
    everyone_can_create_environments: bool = True
    database_capacity_gb: float = Field(default=10.0, ge=0, allow_inf_nan=False)


class TenantSettingsUpdate(BaseModel):
    everyone_can_create_environments: bool | None = None
    # Finite: JSON has no NaN or Infinity to show it with, and SQLite stores NaN as NULL.
    database_capacity_gb: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class CapacityRead(BaseModel):
    total_gb: float
    used_gb: float
    free_gb: float


class LicenseRead(_Read):
    sku: str
    name: str
    qualifies_for_fo: bool


class UserRead(BaseModel):
    upn: str
    display_name: str
    tenant: str
    roles: list[str]
    licenses: list[str]
    is_active: bool
    installation_operator: bool = False  # above every tenant (see `dualwrite operator`)

    @classmethod
    def of(cls, user: User) -> UserRead:
        return cls(
            upn=user.upn,
            display_name=user.display_name,
            tenant=user.tenant.domain,
            roles=[r.value for r in user.role_names],
            licenses=sorted(a.sku for a in user.licenses),
            is_active=user.is_active,
            installation_operator=user.is_operator,
        )


class UserCreate(BaseModel):
    upn: str = Field(examples=["chris@contoso.onmicrosoft.com"])
    display_name: str
    password: str
    roles: list[str] = []
    licenses: list[str] = []


class RoleChange(BaseModel):
    role: str = Field(examples=["power-platform-admin"])


class LicenseChange(BaseModel):
    sku: str = Field(examples=["D365_FINANCE"])


class MemberRead(BaseModel):
    upn: str
    role: str


class ProjectRead(BaseModel):
    name: str
    tenant: str
    members: list[MemberRead]
    environments: list[str]

    @classmethod
    def of(cls, project: Project) -> ProjectRead:
        return cls(
            name=project.name,
            tenant=project.tenant.domain,
            # Members of another tenant show as invited names, whether such a user exists or not.
            members=sorted(
                [MemberRead(upn=m.user.upn, role=m.role.value) for m in project.members]
                + [MemberRead(upn=i.upn, role=i.role.value) for i in project.invitations],
                key=lambda m: m.upn,
            ),
            environments=sorted(e.name for e in project.environments),
        )


class ProjectCreate(BaseModel):
    name: str


class MemberChange(BaseModel):
    upn: str
    role: str = Field(examples=["environment-manager"])


class PlatformEnvironmentRead(BaseModel):
    id: str
    name: str
    region: str
    geography: str
    dataverse: bool
    dataverse_url: str | None
    storage_used_gb: float
    initial: bool
    fo_environment: str | None
    admins: list[str]

    @classmethod
    def of(cls, env: PlatformEnvironment) -> PlatformEnvironmentRead:
        return cls(
            id=env.id,
            name=env.name,
            region=env.region,
            geography=env.geography,
            dataverse=env.has_dataverse,
            dataverse_url=display_url(env.dataverse_url) if env.dataverse_url else None,
            storage_used_gb=env.storage_used_gb,
            initial=env.is_initial,
            fo_environment=env.fo_environment.name if env.fo_environment else None,
            admins=sorted(a.user.upn for a in env.admins),
        )


class PlatformEnvironmentCreate(BaseModel):
    name: str
    region: str = Field(default="West US", examples=["West US"])
    dataverse: bool = True
    dataverse_url: str | None = Field(
        default=None, description="Existing database for the Dataverse; default: a SQLite file."
    )


class AdminChange(BaseModel):
    upn: str


class RegionRead(_Read):
    name: str
    geography: str


class EnvironmentRead(BaseModel):
    name: str
    project: str
    type: str
    region: str
    geography: str
    state: str
    state_reason: str | None
    data_store_url: str
    power_platform_environment: str | None
    created_at: datetime

    @classmethod
    def of(cls, env: FoEnvironment) -> EnvironmentRead:
        pp = env.platform_environment
        return cls(
            name=env.name,
            project=env.project.name,
            type=env.type.value,
            region=env.region,
            geography=env.geography,
            state=env.state.value,
            state_reason=env.state_reason,
            data_store_url=display_url(env.data_store_url),
            power_platform_environment=pp.id if pp else None,
            created_at=env.created_at,
        )


class EnvironmentCreate(BaseModel):
    name: str = Field(examples=["contoso-sandbox"])
    project: str
    type: str = "sandbox"
    region: str = "West US"
    legal_entities: list[str] = ["USMF", "DEMF", "GBSI"]
    data_store_url: str | None = Field(
        default=None, description="Existing or empty database; default: a SQLite file."
    )


class LegalEntityRead(BaseModel):
    id: str
    name: str


class EnvironmentDetail(EnvironmentRead):
    legal_entities: list[LegalEntityRead]
    row_counts: dict[str, int]
    power_platform_integration: PowerPlatformIntegrationRead


class SignInRequest(BaseModel):
    upn: str
    password: str


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime


class MeRead(UserRead):
    csrf_token: str | None = None


class HealthRead(BaseModel):
    status: str
    version: str
    control_store: str
    schema_revision: str | None


class LinkCreate(BaseModel):
    dataverse_environment: str = Field(description="Power Platform environment name or ID.")
    legal_entities: list[str] = Field(examples=[["USMF"]])
    consent: bool = Field(
        default=False, description="Consent to the privacy notice shown in the wizard's summary."
    )


class LinkRead(BaseModel):
    fo_environment: str
    dataverse_environment: str
    dataverse_environment_id: str
    legal_entities: list[str]
    solutions: list[str]
    dual_write_page: str
    notice: str | None = Field(
        default=None, description="What the Dual-write page says when it has no table maps."
    )

    @classmethod
    def of(cls, link: DualWriteLink) -> LinkRead:
        env = link.fo_environment
        return cls(
            fo_environment=env.name,
            dataverse_environment=link.platform_environment.name,
            dataverse_environment_id=link.platform_environment.id,
            legal_entities=link.legal_entity_ids,
            solutions=[f"{s.name} {s.version}" for s in link.solutions],
            dual_write_page=dualwrite_page_path(env.name),
            notice=None if link.table_maps else NO_MAPS_NOTICE,
        )


class ChangeCounts(BaseModel):
    """Changes of one direction since the map first ran live (kept in the target data store)."""

    captured: int = Field(description="Captured on the source: taken so far plus still queued.")
    applied: int = Field(description="Records written to the other side (retries included).")
    failed: int = Field(description="Records sent to the error log.")
    skipped: int = Field(
        0,
        description="Taken but not written: outside the map's filters or legal entities, "
        "superseded by a later change in the same batch, or a conflict lost to the other side.",
    )


class TableMapRead(BaseModel):
    name: str
    solution: str
    fo_entity: str
    dataverse_table: str
    state: str
    directions: list[str]
    depends_on: list[str]
    initial_sync: bool
    master: str
    progress_done: int
    progress_total: int
    queued: dict[str, int] | None = Field(
        description="Captured changes not applied yet, per direction; null while a data store "
        "cannot be reached (see figures_unavailable)."
    )
    changes: dict[str, ChangeCounts] | None = Field(
        default_factory=dict, description="Change counters per direction; null like queued."
    )
    figures_unavailable: str | None = Field(
        default=None,
        description="Why queued and changes are missing: the data store that does not answer "
        "(the state comes from the control store and stays right).",
    )
    queue_max_age_seconds: int
    queue_max_bytes: int
    synchronous: bool = Field(
        default=True,
        description="Writes through the environment APIs commit only with their mapped write "
        "(true), or the sync worker applies them afterwards (false).",
    )
    last_error: str | None


class SyncMode(BaseModel):
    synchronous: bool


class DataStoreOutageRead(BaseModel):
    """A data store of a link that does not answer, as the Dual-write and map pages show it."""

    store: str = Field(examples=["Dataverse data store"])
    code: str = Field(description="DW2002, or DW2006 when a SQLite file's folder is unusable.")
    message: str = Field(description="The driver's failure with the password-masked URL.")
    hint: str
    since: datetime | None = Field(description="The first failure of this outage (UTC).")


class QueueLimits(BaseModel):
    max_age_seconds: int | None = Field(
        default=None, ge=1, le=MAX_INT, description="Default 86400 (1 day)."
    )
    max_bytes: int | None = Field(
        default=None, ge=1, le=MAX_BIGINT, description="Default 1073741824 (1 GB)."
    )


class MapAction(BaseModel):
    action: str = Field(examples=["run"], description="run, pause, resume or stop")
    maps: list[str]
    initial_sync: bool = False
    master: str = "fo"


class SyncErrorRead(_Read):
    id: int
    map_name: str
    direction: str
    source_table: str
    source_key: dict[str, object]
    payload: str | None = Field(
        default=None, description="The source record as it was tried (JSON)."
    )
    reason: str
    attempts: int
    created_at: datetime
    updated_at: datetime


class FieldComparison(BaseModel):
    """One mapped column of an error's record: the source value, what the map would write and
    what the target holds now."""

    kind: str = Field(description="key, company, field, or lookup through <map>")
    source_column: str
    target_column: str
    written: bool = Field(description="The map writes this column in the error's direction.")
    source_value: Any = None
    would_write: Any = Field(default=None, description="The source value after the transforms.")
    target_value: Any = None
    differs: bool = Field(
        description="Written, and the target's value is not what would be written."
    )
    note: str = ""


class SyncErrorDetail(BaseModel):
    """One record of the error log with both sides' current records, field by field."""

    id: int
    map_name: str
    direction: str
    status: str = Field(description="open, resolved or discarded")
    reason: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    source_side: str = Field(description="fo or dataverse")
    source_store: str = Field(description="The environment whose data store holds the source.")
    source_table: str
    source_key: dict[str, Any]
    payload: dict[str, Any] | None = Field(
        default=None, description="The source record as it was tried."
    )
    source_record: dict[str, Any] | None = Field(
        default=None, description="The source record now; null when it no longer exists."
    )
    source_note: str = ""
    target_store: str
    target_table: str
    target_key: dict[str, Any] | None = Field(
        default=None, description="The target's integration key for the record."
    )
    target_record: dict[str, Any] | None = Field(
        default=None, description="The target record now; null when it does not exist (yet)."
    )
    target_note: str = ""
    fields: list[FieldComparison]


class QueuedRead(BaseModel):
    position: int
    direction: str
    operation: str
    key: dict[str, object]
    captured_at: datetime


class RetryResult(BaseModel):
    fixed: int
    still_failing: int


class CheckRead(BaseModel):
    """One validation or health check: passed, or failed with the error that says the fix."""

    name: str
    passed: bool
    code: str | None = None
    message: str | None = None
    hint: str | None = None
    fix_url: str | None = Field(
        default=None, description="The web UI page that fixes a failed check, when there is one."
    )

    @classmethod
    def of(cls, check: Check) -> CheckRead:
        error = check.error
        if error is None:
            return cls(name=check.name, passed=True)
        return cls(
            name=check.name,
            passed=False,
            code=error.code,
            message=error.message,
            hint=error.hint,
            fix_url=check.fix,
        )


class JobError(BaseModel):
    code: str
    message: str
    hint: str


class JobRead(BaseModel):
    id: int
    kind: str
    environment: str
    state: str
    step: str
    percent: int
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: JobError | None

    @classmethod
    def of(cls, job: Job) -> JobRead:
        error = None
        if job.error_code:
            error = JobError(
                code=job.error_code, message=job.error_message or "", hint=job.error_hint or ""
            )
        return cls(
            id=job.id,
            kind=job.kind.value,
            environment=job.fo_environment.name,
            state=job.state.value,
            step=job.step,
            percent=job.percent,
            requested_by=job.requested_by.upn if job.requested_by else None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=error,
        )


class PpiSetupRequest(BaseModel):
    """The Power Platform Integration Setup dialog."""

    use_existing: bool = Field(
        default=False, description="'Use a different Power Platform environment' = Yes."
    )
    platform_environment: str | None = Field(
        default=None, description="With use_existing: the environment's name or ID."
    )
    dataverse_url: str | None = Field(
        default=None, description="New Dataverse only: its database; default a SQLite file."
    )
    confirm_name: str | None = Field(
        default=None,
        description="This cannot be reversed: your display name, typed to confirm.",
    )


class DualWriteAppRequest(BaseModel):
    accept_terms: bool = Field(default=False, description="The terms and conditions, accepted.")
    platform_environment: str | None = Field(
        default=None,
        description="Another Dataverse than the integrated one (manual prerequisites path).",
    )


class ApplicationUserRead(BaseModel):
    side: str
    platform_environment: str
    application_id: str
    name: str
    security_role: str | None
    enabled: bool

    @classmethod
    def of(cls, user: ApplicationUser, platform_environment: str) -> ApplicationUserRead:
        return cls(
            side=user.side,
            platform_environment=platform_environment,
            application_id=user.application_id,
            name=user.name,
            security_role=user.security_role,
            enabled=user.enabled,
        )


class ApplicationUserUpdate(BaseModel):
    enabled: bool | None = None
    security_role: str | None = Field(default=None, description="Empty removes the role.")


class ApplicationUsersFix(BaseModel):
    dataverse_environment: str | None = Field(
        default=None, description="The Dataverse of the pair; default: the integrated one."
    )


class LinkingRead(BaseModel):
    integrated_with: str | None
    linked_to: str | None
    dualwrite_page: str | None
    warning: str | None
    fixes: list[str]


class PowerPlatformIntegrationRead(BaseModel):
    """The environment details page's Power Platform Integration section."""

    platform_environment: str | None
    platform_environment_id: str | None
    dataverse: bool
    setup_available: bool
    dualwrite_application: bool
    application_users: list[ApplicationUserRead]
    application_users_problem: CheckRead | None = Field(
        default=None, description="DW9003 when an application user cannot connect, with the fix."
    )
    installed_solutions: list[str]
    linking: LinkingRead
    jobs: list[JobRead]


class HealthCheckRequest(BaseModel):
    dataverse_environment: str = Field(description="Power Platform environment name or ID.")
    legal_entities: list[str] = Field(examples=[["USMF"]])


class RoleGrant(BaseModel):
    upn: str
    role: str = Field(default="dualwrite-user", examples=["dualwrite-user"])


class EnvironmentUserRead(BaseModel):
    upn: str
    role: str


EnvironmentDetail.model_rebuild()


class WizardRead(BaseModel):
    """The link wizard's first screen and its summary text."""

    environments: list[PlatformEnvironmentRead] = Field(
        description="Dataverse environments where you are an environment admin."
    )
    privacy_notice: str


class SolutionUpload(BaseModel):
    source: str = Field(description="A name for the file, shown in errors.", examples=["ours.toml"])
    definition: str = Field(description="The solution's TOML text.")


class ActivityRead(_Read):
    id: int
    at: datetime
    actor_label: str = Field(description="Who: a UPN, or 'sync worker'.")
    kind: str
    map_name: str | None
    message: str


class ForceStop(BaseModel):
    maps: list[str]
    reason: str = Field(description="Why the maps are forced to Not running (kept in the log).")


class AlertSetting(BaseModel):
    max_errors: int = Field(
        ge=1, le=MAX_INT, examples=[5], description="Errors within the window that fire."
    )
    window_minutes: int = Field(ge=1, le=MAX_ALERT_WINDOW_MINUTES, examples=[10])
    action: str = Field(examples=["pause"], description="notify, pause or stop")


class AlertRead(_Read):
    map_name: str
    max_errors: int
    window_minutes: int
    action: str
    last_fired_at: datetime | None


class ServiceHealthRead(BaseModel):
    """Whether the sync worker (data integration service) is running."""

    running: bool
    message: str
    last_heartbeat: datetime | None
    host: str | None
    restart_requested_at: datetime | None


class ErrorDiscard(BaseModel):
    map: str
    reason: str = Field(description="Why the record is given up on (kept in the activity log).")


class FieldDirection(BaseModel):
    dataverse_field: str = Field(examples=["name"])
    direction: str = Field(examples=["fo_to_dv"], description="fo_to_dv, dv_to_fo or both")


class FieldMappingRead(BaseModel):
    """A mapping as the link syncs it (the solution's, with the link's edits)."""

    fo: str
    dataverse: str
    kind: str = Field(description="key, company, lookup or field (only fields can be edited)")
    direction: str
    transform: str = Field(description="For people, e.g. 'value map No ↔ false, …; default 0'.")
    edited: bool = Field(description="Direction or transform changed on this link.")
    default: str | None = None
    value_map: list[tuple[str, str]] | None = None
    unmatched_dataverse: str | None = None
    unmatched_fo: str | None = None


def _as_text(value: Any) -> Any:
    # JSON numbers and booleans are taken as their text; the target column types them again.
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


class TransformWrite(BaseModel):
    """A field's whole transform; what is left out is removed (a value map needs pairs)."""

    default: str | None = Field(
        None,
        examples=["0"],
        description="Written when the source value is missing, typed by the column written: "
        "digits, true/false, or an ISO 8601 date or moment.",
    )
    value_map: list[tuple[str, str]] = Field(
        default_factory=list,
        examples=[[["No", "false"], ["Yes", "true"]]],
        description="[F&O value, Dataverse value] pairs; empty for no value map.",
    )
    unmatched_dataverse: str | None = Field(
        None, description="Dataverse value for an F&O value not in the pairs."
    )
    unmatched_fo: str | None = Field(
        None, description="F&O value for a Dataverse value not in the pairs."
    )

    @field_validator("default", "unmatched_dataverse", "unmatched_fo", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        return _as_text(value)

    @field_validator("value_map", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [[_as_text(v) for v in p] if isinstance(p, list) else p for p in value]
        return value


class InitialSyncRunRead(_Read):
    id: int
    master: str
    started_at: datetime
    finished_at: datetime | None
    read: int
    written: int
    failed: int
    error: str | None


class InitialSyncDetail(BaseModel):
    """A map's initial sync executions (newest first) and the records the latest one failed on."""

    runs: list[InitialSyncRunRead]
    failed_records: list[SyncErrorRead]


class LeaseRead(BaseModel):
    environment: str
    map_name: str
    direction: str
    expires_in_seconds: float
    queued: int | None = Field(description="Changes waiting; null when a store does not answer.")


class WorkerRead(BaseModel):
    """A `dualwrite worker --stream` sharing the maps, and the map directions it leases."""

    id: str
    host: str
    pid: int
    stream: str
    started_at: datetime
    heartbeat_age_seconds: float
    alive: bool
    leases: list[LeaseRead]
