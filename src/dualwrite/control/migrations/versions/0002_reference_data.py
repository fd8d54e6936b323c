"""reference data: Azure regions with their Power Platform geography, the license catalogue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Azure region -> Power Platform geography (seed 003: West US equates to United States).
REGIONS = {
    "United States": [
        "East US",
        "East US 2",
        "Central US",
        "North Central US",
        "South Central US",
        "West US",
        "West US 2",
        "West US 3",
        "West Central US",
    ],
    "Europe": ["West Europe", "North Europe"],
    "United Kingdom": ["UK South", "UK West"],
    "Germany": ["Germany West Central", "Germany North"],
    "France": ["France Central", "France South"],
    "Switzerland": ["Switzerland North", "Switzerland West"],
    "Norway": ["Norway East", "Norway West"],
    "Canada": ["Canada Central", "Canada East"],
    "South America": ["Brazil South"],
    "Australia": ["Australia East", "Australia Southeast"],
    "Asia": ["East Asia", "Southeast Asia"],
    "Japan": ["Japan East", "Japan West"],
    "India": ["Central India", "South India"],
    "Korea": ["Korea Central", "Korea South"],
    "United Arab Emirates": ["UAE North", "UAE Central"],
    "South Africa": ["South Africa North", "South Africa West"],
}

# The licenses of seed 003 qualify a user for Power Platform integration; the others do not.
LICENSES = [
    ("D365_FINANCE", "Dynamics 365 Finance", True),
    ("D365_SCM", "Dynamics 365 Supply Chain Management", True),
    ("D365_COMMERCE", "Dynamics 365 Commerce", True),
    ("D365_PROJECT_OPERATIONS", "Dynamics 365 Project Operations", True),
    ("D365_HUMAN_RESOURCES", "Dynamics 365 Human Resources", True),
    ("D365_UNIFIED_OPERATIONS", "Dynamics 365 Unified Operations Plan", True),
    ("AX_ENTERPRISE", "AX Enterprise", True),
    ("D365_SALES", "Dynamics 365 Sales Enterprise", False),
    ("D365_FIELD_SERVICE", "Dynamics 365 Field Service", False),
    ("POWER_APPS_PER_USER", "Power Apps per user", False),
    ("M365_E3", "Microsoft 365 E3", False),
]

regions = sa.table("regions", sa.column("name", sa.String), sa.column("geography", sa.String))
licenses = sa.table(
    "licenses",
    sa.column("sku", sa.String),
    sa.column("name", sa.String),
    sa.column("qualifies_for_fo", sa.Boolean),
)


def upgrade() -> None:
    op.bulk_insert(
        regions,
        [{"name": r, "geography": geo} for geo, names in REGIONS.items() for r in names],
    )
    op.bulk_insert(licenses, [{"sku": s, "name": n, "qualifies_for_fo": q} for s, n, q in LICENSES])


def downgrade() -> None:
    op.execute(licenses.delete())
    op.execute(regions.delete())
