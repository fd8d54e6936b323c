"""Control store tables: tenants and users, LCS projects, F&O and Power Platform environments.

Changes to these classes go with an Alembic migration in `control/migrations/versions/`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_guid() -> str:
    """A directory object's ID: a GUID in its usual lower-case text form."""
    return str(uuid.uuid4())


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DirectoryRole(enum.StrEnum):
    """Directory (Azure AD-like) roles of a tenant's users."""

    GLOBAL_ADMIN = "Global administrator"
    POWER_PLATFORM_ADMIN = "Power Platform administrator"
    D365_SERVICE_ADMIN = "Dynamics 365 Service administrator"


class ProjectRole(enum.StrEnum):
    """Roles of a member in a Lifecycle Services project."""

    PROJECT_OWNER = "Project owner"
    ENVIRONMENT_MANAGER = "Environment manager"
    TEAM_MEMBER = "Team member"


class FoSecurityRole(enum.StrEnum):
    """Security roles inside an F&O environment that matter to dual-write (seed 002: after setup,
    a non-admin with this role monitors status and edits mappings)."""

    DUALWRITE_USER = "Dual-write user"


class JobKind(enum.StrEnum):
    """Asynchronous Lifecycle Services operations on an F&O environment."""

    PPI_SETUP = "Power Platform integration setup"
    DUALWRITE_APP = "Dual-write application"
    LINK = "Link to Power Platform environment"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EnvironmentType(enum.StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class EnvironmentState(enum.StrEnum):
    DEPLOYED = "deployed"
    DOWNTIME = "downtime"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as their values, as plain strings: readable in SQL and portable to every backend.
    return Enum(
        cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=64,
        validate_strings=True,
    )


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    # The tenant ID of Entra: in token issuers and `tid` claims, and accepted wherever a
    # route names the tenant by its domain.
    directory_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)
    display_name: Mapped[str] = mapped_column(String(200))
    everyone_can_create_environments: Mapped[bool] = mapped_column(Boolean, default=True)
    database_capacity_gb: Mapped[float] = mapped_column(Float, default=10.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="tenant")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    upn: Mapped[str] = mapped_column(String(320), unique=True)
    object_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)  # `oid`
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Installation operator: above every tenant (tenants, data store locations, the shared
    # worker). Not a directory role, so no tenant's Global administrator can grant it.
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="users")
    roles: Mapped[list[RoleAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    licenses: Mapped[list[LicenseAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> list[DirectoryRole]:
        return sorted(r.role for r in self.roles)

    def has_role(self, *roles: DirectoryRole) -> bool:
        return any(r.role in roles for r in self.roles)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[DirectoryRole] = mapped_column(_enum(DirectoryRole), primary_key=True)


class License(Base):
    """The license catalogue; `qualifies_for_fo` marks those seed 003 accepts."""

    __tablename__ = "licenses"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    qualifies_for_fo: Mapped[bool] = mapped_column(Boolean, default=False)


class LicenseAssignment(Base):
    __tablename__ = "license_assignments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(ForeignKey("licenses.sku"), primary_key=True)


class AuthSession(Base):
    """A sign-in: a browser session (cookie) or an API/CLI bearer token. Only hashes are stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """Failed sign-ins, kept in the store so throttling holds across processes and restarts.
    `source` is the address the attempt came from: throttling is per address (and per account
    from that address), so nobody can lock an account's owner out from elsewhere."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upn: Mapped[str] = mapped_column(String(320), index=True)
    source: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Region(Base):
    """Azure region → Power Platform geography (West US → United States)."""

    __tablename__ = "regions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    geography: Mapped[str] = mapped_column(String(64))


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tenant: Mapped[Tenant] = relationship()
    members: Mapped[list[ProjectMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    invitations: Mapped[list[ProjectInvitation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    environments: Mapped[list[FoEnvironment]] = relationship(back_populates="project")


class ProjectMember(Base):
    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[ProjectRole] = mapped_column(_enum(ProjectRole))

    user: Mapped[User] = relationship(lazy="joined")


class ProjectInvitation(Base):
    """A member from another tenant, invited by user principal name (as Lifecycle Services
    invites partners). Whoever holds that name is the member: the invitation neither needs nor
    tells whether such a user exists, so no tenant learns another's users from it."""

    __tablename__ = "project_invitations"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    upn: Mapped[str] = mapped_column(String(320), primary_key=True)
    role: Mapped[ProjectRole] = mapped_column(_enum(ProjectRole))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FoEnvironment(Base):
    """A finance and operations environment and where its data lives. Names are unique per
    tenant (`tenant_id` is the project's, kept here so the database enforces it)."""

    __tablename__ = "fo_environments"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[EnvironmentType] = mapped_column(_enum(EnvironmentType))
    region: Mapped[str] = mapped_column(ForeignKey("regions.name"))
    data_store_url: Mapped[str] = mapped_column(String(1000))
    state: Mapped[EnvironmentState] = mapped_column(
        _enum(EnvironmentState), default=EnvironmentState.DEPLOYED
    )
    state_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="environments")
    region_ref: Mapped[Region] = relationship(lazy="joined")
    platform_environment: Mapped[PlatformEnvironment | None] = relationship(
        back_populates="fo_environment",
        foreign_keys="PlatformEnvironment.fo_environment_id",
        uselist=False,
    )
    users: Mapped[list[FoEnvironmentUser]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def geography(self) -> str:
        return self.region_ref.geography


class PlatformEnvironment(Base):
    """A Power Platform environment, with or without a Dataverse data store.

    `fo_environment_id` is set on the one environment that Power Platform integration currently
    connects to the F&O environment: first the initial placeholder, later a Dataverse one.
    """

    __tablename__ = "platform_environments"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(ForeignKey("regions.name"))
    has_dataverse: Mapped[bool] = mapped_column(Boolean, default=False)
    dataverse_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    storage_used_gb: Mapped[float] = mapped_column(Float, default=0.0)
    is_initial: Mapped[bool] = mapped_column(Boolean, default=False)
    fo_environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="SET NULL"), default=None, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tenant: Mapped[Tenant] = relationship()
    region_ref: Mapped[Region] = relationship(lazy="joined")
    fo_environment: Mapped[FoEnvironment | None] = relationship(
        back_populates="platform_environment", foreign_keys=[fo_environment_id]
    )
    admins: Mapped[list[PlatformEnvironmentAdmin]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def geography(self) -> str:
        return self.region_ref.geography


class PlatformEnvironmentAdmin(Base):
    """A user with the System Administrator security role in the environment's Dataverse."""

    __tablename__ = "platform_environment_admins"

    environment_id: Mapped[str] = mapped_column(
        ForeignKey("platform_environments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    user: Mapped[User] = relationship(lazy="joined")


class DualWriteLink(Base):
    """Dual-write between an F&O environment and a Dataverse, for chosen legal entities."""

    __tablename__ = "dualwrite_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fo_environment_id: Mapped[int] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE"), unique=True
    )
    platform_environment_id: Mapped[str] = mapped_column(
        ForeignKey("platform_environments.id", ondelete="RESTRICT")
    )
    legal_entities: Mapped[str] = mapped_column(String(2000))  # comma-separated IDs
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    fo_environment: Mapped[FoEnvironment] = relationship(lazy="joined")
    platform_environment: Mapped[PlatformEnvironment] = relationship(lazy="joined")
    solutions: Mapped[list[AppliedSolution]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AppliedSolution.id"
    )
    table_maps: Mapped[list[TableMapState]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TableMapState.name"
    )

    @property
    def legal_entity_ids(self) -> list[str]:
        return [c for c in self.legal_entities.split(",") if c]


class AppliedSolution(Base):
    """A solution applied on a link, kept verbatim so its maps can always be rebuilt."""

    __tablename__ = "applied_solutions"
    __table_args__ = (UniqueConstraint("link_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("dualwrite_links.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TableMapState(Base):
    """A published table map on a link: its state, initial sync options and progress."""

    __tablename__ = "table_map_states"
    __table_args__ = (UniqueConstraint("link_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("dualwrite_links.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    solution: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="Not running")
    initial_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    master: Mapped[str] = mapped_column(String(10), default="fo")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # While Paused: past either limit, writes to the map's tables are refused until it resumes.
    queue_max_age_seconds: Mapped[int] = mapped_column(
        Integer, default=86_400, server_default="86400"
    )
    queue_max_bytes: Mapped[int] = mapped_column(
        BigInteger, default=1024**3, server_default="1073741824"
    )
    # Live sync of writes through the environment APIs: synchronous (Microsoft's default: the
    # write commits only with its mapped write) or asynchronous (the worker syncs it).
    synchronous: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Field directions changed on this link, over the solution's: JSON {dataverse field: direction}.
    field_directions: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # Transforms changed on this link, as entered: JSON {dataverse field: Transform.to_json()}.
    field_transforms: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FoEnvironmentUser(Base):
    """A user's security role inside an F&O environment (besides LCS project roles)."""

    __tablename__ = "fo_environment_users"

    fo_environment_id: Mapped[int] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[FoSecurityRole] = mapped_column(_enum(FoSecurityRole))

    user: Mapped[User] = relationship(lazy="joined")


class ApplicationUser(Base):
    """The service principal dual-write connects with: a registered application ID in F&O, an
    application user with a security role in Dataverse, per F&O ↔ Dataverse pair (seed 001)."""

    __tablename__ = "application_users"
    __table_args__ = (UniqueConstraint("fo_environment_id", "platform_environment_id", "side"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fo_environment_id: Mapped[int] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE")
    )
    platform_environment_id: Mapped[str] = mapped_column(
        ForeignKey("platform_environments.id", ondelete="CASCADE")
    )
    side: Mapped[str] = mapped_column(String(10))  # "fo" or "dataverse"
    application_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    security_role: Mapped[str | None] = mapped_column(String(100), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InstalledSolution(Base):
    """A solution installed into a Dataverse: platform apps (by Power Platform integration) or the
    dual-write orchestration solutions (by the dual-write application)."""

    __tablename__ = "installed_solutions"

    platform_environment_id: Mapped[str] = mapped_column(
        ForeignKey("platform_environments.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "platform" or "orchestration"
    version: Mapped[str] = mapped_column(String(40))
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """An asynchronous operation with progress; its outcome (or error) stays for the user."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind))
    fo_environment_id: Mapped[int] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    state: Mapped[JobState] = mapped_column(_enum(JobState), default=JobState.QUEUED)
    step: Mapped[str] = mapped_column(String(200), default="Queued")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    error_code: Mapped[str | None] = mapped_column(String(10), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    error_hint: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    fo_environment: Mapped[FoEnvironment] = relationship(lazy="joined")
    requested_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class ActivityEntry(Base):
    """The activity log of an environment's dual-write: who did what to which map, and when."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fo_environment_id: Mapped[int] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE"), index=True
    )
    map_name: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    actor_label: Mapped[str] = mapped_column(String(320))  # the UPN then, or "sync worker"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AlertRule(Base):
    """Alert settings of a table map: N errors within T minutes → notify, pause or stop."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("link_id", "map_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("dualwrite_links.id", ondelete="CASCADE"))
    map_name: Mapped[str] = mapped_column(String(200))
    max_errors: Mapped[int] = mapped_column(Integer)
    window_minutes: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # notify, pause or stop
    last_fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ServiceStatus(Base):
    """The data integration service (sync worker): its heartbeat, and restarts asked for."""

    __tablename__ = "service_status"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    restart_requested_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    restart_requested_by: Mapped[str | None] = mapped_column(String(320), default=None)


class InitialSyncRun(Base):
    """One execution of a map's initial sync: rows read, written and failed (the failed ones are
    in the error log, and "Re-run execution" retries only them)."""

    __tablename__ = "initial_sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_map_id: Mapped[int] = mapped_column(
        ForeignKey("table_map_states.id", ondelete="CASCADE"), index=True
    )
    master: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    read: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)  # why the run itself stopped


class DataStoreClaim(Base):
    """A data store location and the one environment that owns it. The key is a hash of the
    location's canonical identity (SQLite: the real path; servers: host, port, database), so
    two spellings of one database can never belong to two environments. A provisioning job
    holds the location (`job_id`) until the environment it creates takes it over."""

    __tablename__ = "store_claims"

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str] = mapped_column(String(1000))  # the canonical identity, readable
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    fo_environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE"), default=None, unique=True
    )
    platform_environment_id: Mapped[str | None] = mapped_column(
        ForeignKey("platform_environments.id", ondelete="CASCADE"), default=None, unique=True
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), default=None, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RegisteredApplication(Base):
    """An application registered in a tenant (Entra's app registration and its service
    principal in one): it signs in with its client ID and a client secret. The dual-write
    application's ID of every F&O ↔ Dataverse pair is one too."""

    __tablename__ = "registered_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)
    object_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)  # `oid`
    display_name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tenant: Mapped[Tenant] = relationship()
    secrets: Mapped[list[ClientSecret]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClientSecret.created_at"
    )


class ClientSecret(Base):
    """A client secret of an application: only its hash and first characters are kept; the
    value is shown once, when it is made."""

    __tablename__ = "client_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registered_app_id: Mapped[int] = mapped_column(
        ForeignKey("registered_applications.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)  # secret ID
    hint: Mapped[str] = mapped_column(String(3))
    secret_hash: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnvironmentAppUser(Base):
    """An application user of one environment: a registered application with a security role
    in a Dataverse (`platform_environment_id`) or an F&O environment (`fo_environment_id`).
    The dual-write application's users (`ApplicationUser`) count as such too."""

    __tablename__ = "env_app_users"
    __table_args__ = (
        UniqueConstraint("fo_environment_id", "registered_app_id"),
        UniqueConstraint("platform_environment_id", "registered_app_id"),
        CheckConstraint(
            "(fo_environment_id IS NULL) <> (platform_environment_id IS NULL)",
            name="one_environment",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registered_app_id: Mapped[int] = mapped_column(
        ForeignKey("registered_applications.id", ondelete="CASCADE"), index=True
    )
    fo_environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("fo_environments.id", ondelete="CASCADE"), default=None
    )
    platform_environment_id: Mapped[str | None] = mapped_column(
        ForeignKey("platform_environments.id", ondelete="CASCADE"), default=None
    )
    security_role: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[RegisteredApplication] = relationship(lazy="joined")


class SigningKey(Base):
    """An RS256 key pair that signs access tokens. `kid` is the certificate's SHA-1 thumbprint
    (as Entra's); the private key is kept encrypted with a key derived from the installation's
    secret key. A key stays published (JWKS) after rotation until it is retired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    certificate: Mapped[str] = mapped_column(Text)  # PEM, self-signed: the public key and x5c
    private_key: Mapped[str] = mapped_column(Text)  # encrypted PKCS #8 PEM
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class WorkerProcess(Base):
    """A `dualwrite worker` sharing the maps with others (over a stream): who it is, where it
    runs and when it last said so. A worker whose heartbeat is older than a lease is gone."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    stream: Mapped[str] = mapped_column(String(500))  # the stream's URL, without credentials
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MapLease(Base):
    """Which worker runs a map direction, until when: renewed while the worker lives, taken
    over by another once it has expired (the position's compare-and-set stays the last guard
    against two workers applying one batch)."""

    __tablename__ = "map_leases"

    table_map_id: Mapped[int] = mapped_column(
        ForeignKey("table_map_states.id", ondelete="CASCADE"), primary_key=True
    )
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
