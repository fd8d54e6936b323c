"""oauth: tenant directory IDs, object IDs of users, registered applications with client
secrets, application users of environments, token signing keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_guid_column(table: str, column: str) -> None:
    """A unique GUID column, filled for the rows there are before it becomes NOT NULL."""
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(column, sa.String(36), nullable=True))
    conn = op.get_bind()
    rows = sa.table(table, sa.column("id"), sa.column(column))
    for (row_id,) in conn.execute(sa.select(rows.c.id)).all():
        conn.execute(rows.update().where(rows.c.id == row_id).values({column: str(uuid.uuid4())}))
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(column, existing_type=sa.String(36), nullable=False)
        batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])


def upgrade() -> None:
    _add_guid_column("tenants", "directory_id")
    _add_guid_column("users", "object_id")
    apps = op.create_table(
        "registered_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("object_id", sa.String(36), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_registered_applications_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_registered_applications"),
        sa.UniqueConstraint("client_id", name="uq_registered_applications_client_id"),
        sa.UniqueConstraint("object_id", name="uq_registered_applications_object_id"),
    )
    op.create_index(
        "ix_registered_applications_tenant_id", "registered_applications", ["tenant_id"]
    )
    op.create_table(
        "client_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registered_app_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(36), nullable=False),
        sa.Column("hint", sa.String(3), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_app_id"],
            ["registered_applications.id"],
            name="fk_client_secrets_registered_app_id_registered_applications",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_client_secrets"),
        sa.UniqueConstraint("key_id", name="uq_client_secrets_key_id"),
    )
    op.create_index("ix_client_secrets_registered_app_id", "client_secrets", ["registered_app_id"])
    op.create_table(
        "env_app_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registered_app_id", sa.Integer(), nullable=False),
        sa.Column("fo_environment_id", sa.Integer(), nullable=True),
        sa.Column("platform_environment_id", sa.String(36), nullable=True),
        sa.Column("security_role", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(fo_environment_id IS NULL) <> (platform_environment_id IS NULL)",
            name="ck_env_app_users_one_environment",
        ),
        sa.ForeignKeyConstraint(
            ["registered_app_id"],
            ["registered_applications.id"],
            name="fk_env_app_users_registered_app_id_registered_applications",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fo_environment_id"],
            ["fo_environments.id"],
            name="fk_env_app_users_fo_environment_id_fo_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_environment_id"],
            ["platform_environments.id"],
            name="fk_env_app_users_platform_environment_id_platform_environments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_env_app_users"),
        sa.UniqueConstraint(
            "fo_environment_id",
            "registered_app_id",
            name="uq_env_app_users_fo_environment_id",
        ),
        sa.UniqueConstraint(
            "platform_environment_id",
            "registered_app_id",
            name="uq_env_app_users_platform_environment_id",
        ),
    )
    op.create_index(
        "ix_env_app_users_registered_app_id",
        "env_app_users",
        ["registered_app_id"],
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    _register_dualwrite_applications(apps)


def _register_dualwrite_applications(apps: sa.Table) -> None:
    """The dual-write application installed before signs in like any registered application:
    its ID becomes one of the tenant that owns the F&O environment (no secret yet: an
    administrator rotates one to use it)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT a.application_id, e.tenant_id, min(a.name) FROM application_users a "
            "JOIN fo_environments e ON e.id = a.fo_environment_id "
            "GROUP BY a.application_id, e.tenant_id ORDER BY a.application_id, e.tenant_id"
        )
    ).all()
    seen: set[str] = set()
    for client_id, tenant_id, name in rows:
        if client_id in seen:  # one registration per ID: the first tenant keeps it
            continue
        seen.add(client_id)
        conn.execute(
            apps.insert().values(
                tenant_id=tenant_id,
                client_id=client_id,
                object_id=str(uuid.uuid4()),
                display_name=name,
                enabled=True,
                created_at=sa.func.current_timestamp(),
            )
        )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    for table in ("signing_keys", "env_app_users", "client_secrets", "registered_applications"):
        op.drop_table(table)
    for table, column in (("users", "object_id"), ("tenants", "directory_id")):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_{column}", type_="unique")
            batch_op.drop_column(column)
