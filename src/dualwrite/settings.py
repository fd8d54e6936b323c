"""Runtime settings, read from the environment once at start-up and passed in (never at import)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dualwrite.stores.locations import canonical_server

DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - a marker, refused outside development


class Settings(BaseSettings):
    """Where dualwrite keeps its data and how it serves. Every field is a DUALWRITE_* variable."""

    model_config = SettingsConfigDict(env_prefix="DUALWRITE_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.cwd() / ".dualwrite",
        description="Data directory: the SQLite control store, environment data stores, "
        "CLI credentials.",
    )
    database_url: str | None = Field(
        default=None,
        description="Control store URL; defaults to a SQLite file in the data directory.",
    )
    secret_key: str = Field(
        default=DEV_SECRET,
        description="Key that signs CSRF tokens; required outside development.",
    )
    environment: str = Field(default="development", description="'development' or 'production'.")
    host: str = Field(default="127.0.0.1", description="Address `dualwrite serve` binds to.")
    port: int = Field(default=8000, description="Port `dualwrite serve` listens on.")
    session_hours: int = Field(default=12, description="Lifetime of a sign-in session or token.")
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins allowed for one account from one address within the "
        "throttle window; past it that address waits, with a wait that doubles per failure.",
    )
    login_source_max_failures: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins allowed from one address (any accounts) within the window.",
    )
    login_account_max_failures: int = Field(
        default=50,
        ge=1,
        description="Failed sign-ins of one account (from any addresses) within the window that "
        "mark it as under attack: then every address that failed on it waits, while addresses "
        "that have not failed can still sign in.",
    )
    login_window_seconds: int = Field(
        default=300, ge=1, description="Throttle window, and the longest wait it imposes."
    )
    login_backoff_seconds: int = Field(
        default=15, ge=1, description="First wait past a throttle limit; doubles per failure."
    )
    store_directories: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders (comma-separated) where installation operators may name SQLite "
        "data stores. Everyone else gets stores created under the data directory.",
    )
    store_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Database servers (comma-separated host:port) where installation operators "
        "may name PostgreSQL or MariaDB data stores.",
    )
    max_request_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest request body the server reads (uploads, $batch); larger ones "
        "are refused with 413 before they are stored.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Server log of serve, worker and demo: text lines or one JSON object a line.",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="warning", description="Least severe server log records written."
    )

    @field_validator("store_directories", "store_servers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("store_servers")
    @classmethod
    def _servers(cls, value: list[str]) -> list[str]:
        return [canonical_server(entry) for entry in value]

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEV_SECRET:
            raise ValueError(
                "DUALWRITE_SECRET_KEY must be set outside development, e.g. to "
                f"{secrets.token_urlsafe(32)!r}"
            )
        return self

    @property
    def control_file(self) -> Path:
        """The SQLite control store's file (used when no database URL is set)."""
        return self.home / "control.db"

    @property
    def control_url(self) -> str:
        return self.database_url or f"sqlite:///{self.control_file}"

    @property
    def environments_dir(self) -> Path:
        return self.home / "environments"

    def default_store_url(self, tenant: str, folder: str, filename: str) -> str:
        """Where an environment's SQLite data store goes when no database URL is given: a
        folder per tenant, so equal names in two tenants never meet."""
        return f"sqlite:///{self.environments_dir / tenant / folder / filename}"

    @property
    def tls_dir(self) -> Path:
        """Where `dualwrite serve --tls` keeps its self-signed certificate."""
        return self.home / "tls"

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials.json"
