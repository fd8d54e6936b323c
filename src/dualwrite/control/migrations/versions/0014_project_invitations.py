"""project invitations: members from other tenants by user principal name

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("Project owner", "Environment manager", "Team member")


def upgrade() -> None:
    op.create_table(
        "project_invitations",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("upn", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="projectrole", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_invitations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "upn", name=op.f("pk_project_invitations")),
    )


def downgrade() -> None:
    op.drop_table("project_invitations")
