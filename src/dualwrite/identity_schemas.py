"""Shapes of registered applications, their client secrets, application users of
environments and token signing keys, shared by the REST API and the CLI's --json (beside
`schemas.py`, one contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from dualwrite.control.models import ClientSecret, RegisteredApplication, SigningKey, as_utc, utcnow
from dualwrite.identity.apps import DEFAULT_SECRET_DAYS, NewSecret, secret_expiry
from dualwrite.identity.environment_access import AppUserEntry


class ClientSecretRead(BaseModel):
    key_id: str = Field(description="The secret's ID (not its value).")
    hint: str = Field(description="The value's first three characters.")
    description: str
    created_at: datetime
    expires_at: datetime
    expired: bool

    @classmethod
    def of(cls, secret: ClientSecret) -> ClientSecretRead:
        expires = as_utc(secret.expires_at)
        return cls(
            key_id=secret.key_id,
            hint=secret.hint,
            description=secret.description,
            created_at=as_utc(secret.created_at),
            expires_at=expires,
            expired=expires <= utcnow(),
        )


class RegisteredAppRead(BaseModel):
    client_id: str = Field(description="Application (client) ID: `client_id` of token requests.")
    object_id: str = Field(description="Its service principal: `oid` of its tokens.")
    display_name: str
    enabled: bool
    tenant: str
    tenant_id: str = Field(description="Directory (tenant) ID.")
    secret_expires_at: datetime | None
    secrets: list[ClientSecretRead]
    dualwrite_environments: list[str] = Field(
        description="F&O environments whose dual-write application this is."
    )

    @classmethod
    def of(cls, app: RegisteredApplication, dualwrite_environments: list[str]) -> RegisteredAppRead:
        return cls(
            client_id=app.client_id,
            object_id=app.object_id,
            display_name=app.display_name,
            enabled=app.enabled,
            tenant=app.tenant.domain,
            tenant_id=app.tenant.directory_id,
            secret_expires_at=secret_expiry(app),
            secrets=[ClientSecretRead.of(s) for s in app.secrets],
            dualwrite_environments=dualwrite_environments,
        )


class NewSecretRead(BaseModel):
    client_id: str
    key_id: str
    secret: str = Field(description="The secret's value: shown this once, stored only hashed.")
    expires_at: datetime

    @classmethod
    def of(cls, app: RegisteredApplication, made: NewSecret) -> NewSecretRead:
        return cls(
            client_id=app.client_id,
            key_id=made.secret.key_id,
            secret=made.value,
            expires_at=as_utc(made.secret.expires_at),
        )


class RegisteredAppCreated(BaseModel):
    application: RegisteredAppRead
    secret: NewSecretRead


class RegisteredAppCreate(BaseModel):
    display_name: str = Field(examples=["Contoso integration"])
    secret_days: int = Field(default=DEFAULT_SECRET_DAYS, description="Lifetime of its secret.")
    secret_description: str = ""


class RegisteredAppUpdate(BaseModel):
    display_name: str | None = None
    enabled: bool | None = Field(
        default=None, description="A disabled application gets no tokens; its tokens are refused."
    )


class SecretRotate(BaseModel):
    old_secrets_end: datetime | None = Field(
        default=None, description="When the current secrets stop working (default: now)."
    )
    secret_days: int = DEFAULT_SECRET_DAYS
    description: str = ""


class AppUserRead(BaseModel):
    environment: str
    kind: Literal["fo", "dataverse"]
    client_id: str
    name: str
    security_role: str | None
    enabled: bool
    dualwrite: bool = Field(description="The dual-write application's, kept by its install.")

    @classmethod
    def of(
        cls, entry: AppUserEntry, environment: str, kind: Literal["fo", "dataverse"]
    ) -> AppUserRead:
        return cls(
            environment=environment,
            kind=kind,
            client_id=entry.client_id,
            name=entry.name,
            security_role=entry.security_role,
            enabled=entry.enabled,
            dualwrite=entry.dualwrite,
        )


class AppUserGrant(BaseModel):
    security_role: str = Field(examples=["System Administrator"])
    enabled: bool = True


class SigningKeyRead(BaseModel):
    kid: str
    active: bool = Field(description="The key new tokens are signed with.")
    published: bool = Field(description="In the JWKS: tokens it signed still verify.")
    created_at: datetime
    retired_at: datetime | None

    @classmethod
    def of(cls, key: SigningKey) -> SigningKeyRead:
        return cls(
            kid=key.kid,
            active=key.active,
            published=key.retired_at is None,
            created_at=as_utc(key.created_at),
            retired_at=as_utc(key.retired_at) if key.retired_at else None,
        )
