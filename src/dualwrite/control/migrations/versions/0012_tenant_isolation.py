"""tenant isolation: installation operators, environment names per tenant, data store claims,
sign-in failures per source address

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import hashlib
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dualwrite.errors import DualWriteError
from dualwrite.stores.locations import locate

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("is_operator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("login_failures") as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(64), server_default="", nullable=False))
        batch_op.create_index("ix_login_failures_source", ["source"])
        batch_op.create_index("ix_login_failures_at", ["at"])

    with op.batch_alter_table("fo_environments") as batch_op:
        batch_op.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE fo_environments SET tenant_id = "
        "(SELECT projects.tenant_id FROM projects WHERE projects.id = fo_environments.project_id)"
    )
    with op.batch_alter_table("fo_environments") as batch_op:
        batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_fo_environments_tenant_id_tenants",
            "tenants",
            ["tenant_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint("uq_fo_environments_name", type_="unique")
        batch_op.create_unique_constraint("uq_fo_environments_tenant_id", ["tenant_id", "name"])

    claims = op.create_table(
        "store_claims",
        sa.Column("identity", sa.String(64), nullable=False),
        sa.Column("location", sa.String(1000), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("fo_environment_id", sa.Integer(), nullable=True),
        sa.Column("platform_environment_id", sa.String(36), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_store_claims_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fo_environment_id"],
            ["fo_environments.id"],
            name="fk_store_claims_fo_environment_id_fo_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_environment_id"],
            ["platform_environments.id"],
            name="fk_store_claims_platform_environment_id_platform_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_store_claims_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("identity", name="pk_store_claims"),
        sa.UniqueConstraint("fo_environment_id", name="uq_store_claims_fo_environment_id"),
        sa.UniqueConstraint(
            "platform_environment_id", name="uq_store_claims_platform_environment_id"
        ),
        sa.UniqueConstraint("job_id", name="uq_store_claims_job_id"),
    )
    _claim_existing_stores(claims)
    _first_tenant_admins_become_operators()


def _claim_existing_stores(claims: sa.Table) -> None:
    """Every store in use gets its owner. Two environments on one database (what the old
    string comparison let through): the older keeps it, the other is named in the log."""
    conn = op.get_bind()
    fo = conn.execute(
        sa.text(
            "SELECT e.id, p.tenant_id, e.data_store_url, e.created_at FROM fo_environments e "
            "JOIN projects p ON p.id = e.project_id"
        )
    )
    dv = conn.execute(
        sa.text(
            "SELECT id, tenant_id, dataverse_url, created_at FROM platform_environments "
            "WHERE dataverse_url IS NOT NULL"
        )
    )
    owners = [("fo", *row) for row in fo] + [("dv", *row) for row in dv]
    seen: dict[str, str] = {}
    now = sa.func.current_timestamp()
    for kind, env_id, tenant_id, url, _created in sorted(owners, key=lambda r: str(r[4])):
        try:
            location = locate(url)
        except DualWriteError as error:
            log.warning("data store of %s environment %s not claimed: %s", kind, env_id, error)
            continue
        key = hashlib.sha256(location.identity.encode()).hexdigest()
        if key in seen:
            log.warning(
                "%s environment %s shares its data store with %s; it was not given the store, "
                "point it at a database of its own",
                kind,
                env_id,
                seen[key],
            )
            continue
        seen[key] = f"{kind} environment {env_id}"
        conn.execute(
            claims.insert().values(
                identity=key,
                location=location.identity,
                tenant_id=tenant_id,
                fo_environment_id=env_id if kind == "fo" else None,
                platform_environment_id=env_id if kind == "dv" else None,
                created_at=now,
            )
        )


def _first_tenant_admins_become_operators() -> None:
    """Before, every Global administrator could act installation-wide; now only operators can.
    The administrators of the first tenant (the one `dualwrite init` made) keep those powers."""
    op.execute(
        "UPDATE users SET is_operator = true WHERE tenant_id = (SELECT min(id) FROM tenants) "
        "AND id IN (SELECT user_id FROM role_assignments WHERE role = 'Global administrator')"
    )


def downgrade() -> None:
    op.drop_table("store_claims")
    with op.batch_alter_table("fo_environments") as batch_op:
        batch_op.drop_constraint("fk_fo_environments_tenant_id_tenants", type_="foreignkey")
        batch_op.drop_constraint("uq_fo_environments_tenant_id", type_="unique")
        batch_op.drop_column("tenant_id")
        batch_op.create_unique_constraint("uq_fo_environments_name", ["name"])
    with op.batch_alter_table("login_failures") as batch_op:
        batch_op.drop_index("ix_login_failures_at")
        batch_op.drop_index("ix_login_failures_source")
        batch_op.drop_column("source")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("is_operator")
