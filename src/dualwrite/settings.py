"""Runtime settings, read from the environment once at start-up and passed in (never at import)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        default=5, description="Failed sign-ins allowed per account within the throttle window."
    )
    login_window_seconds: int = Field(
        default=300, description="Throttle window and lock-out time after too many failures."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Server log of serve, worker and demo: text lines or one JSON object a line.",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="warning", description="Least severe server log records written."
    )

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
    def control_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'control.db'}"

    @property
    def environments_dir(self) -> Path:
        return self.home / "environments"

    def default_store_url(self, folder: str, filename: str) -> str:
        """Where an environment's SQLite data store goes when no database URL is given."""
        return f"sqlite:///{self.environments_dir / folder / filename}"

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials.json"
