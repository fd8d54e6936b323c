"""Alembic migrations go up to head and back down to base on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, column, inspect, table, text

from dualwrite.control.models import Base
from dualwrite.control.store import ControlStore


def test_upgrade_to_head_and_downgrade_to_base(database_url: str) -> None:
    store = ControlStore(database_url)
    try:
        assert store.current_revision() is None
        store.upgrade()
        assert store.is_current()
        tables = set(inspect(store.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with store.engine.connect() as conn:
            geography = conn.execute(
                text("SELECT geography FROM regions WHERE name = 'West US'")
            ).scalar_one()
            qualifying = conn.execute(
                text("SELECT count(*) FROM licenses WHERE qualifies_for_fo = :t"), {"t": True}
            ).scalar_one()
        assert geography == "United States"
        assert qualifying == 7

        store.downgrade()
        assert store.current_revision() is None
        left = set(inspect(store.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
    finally:
        store.dispose()


def test_models_match_migrations(database_url: str) -> None:
    """The ORM models and the migrations describe the same schema (no missing migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = ControlStore(database_url)
    try:
        store.upgrade()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        store.dispose()


def _insert(conn: Connection, table_name: str, **values: object) -> None:
    conn.execute(table(table_name, *(column(k) for k in values)).insert().values(**values))


def test_tenant_isolation_migration_keeps_existing_installations_working(
    database_url: str, tmp_path: Path
) -> None:
    """0012 on a store of before: environments get their tenant, every data store its owner
    (of two environments sharing one, the older keeps it), and the first tenant's Global
    administrators become the installation operators."""
    store = ControlStore(database_url)
    shared = tmp_path / "shared.db"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        store.upgrade("0011")
        with store.engine.begin() as conn:
            for n, domain in ((1, "contoso"), (2, "fabrikam")):
                _insert(
                    conn,
                    "tenants",
                    id=n,
                    domain=f"{domain}.onmicrosoft.com",
                    display_name=domain,
                    everyone_can_create_environments=True,
                    database_capacity_gb=10.0,
                    created_at=at,
                )
                _insert(
                    conn,
                    "users",
                    id=n,
                    tenant_id=n,
                    upn=f"admin@{domain}.onmicrosoft.com",
                    display_name="A",
                    password_hash="x",
                    is_active=True,
                    created_at=at,
                )
                _insert(conn, "role_assignments", user_id=n, role="Global administrator")
                _insert(conn, "projects", id=n, tenant_id=n, name="ERP", created_at=at)
            # The same file in two spellings, as the old string comparison let through.
            for n, url in ((1, f"sqlite:///{shared}"), (2, f"sqlite:///{tmp_path}//shared.db")):
                _insert(
                    conn,
                    "fo_environments",
                    id=n,
                    project_id=n,
                    name=f"env-{n}",
                    type="sandbox",
                    region="West US",
                    data_store_url=url,
                    state="deployed",
                    created_at=at.replace(month=n),
                )
                _insert(
                    conn,
                    "fo_environment_users",
                    fo_environment_id=n,
                    user_id=n,
                    role="Dual-write user",
                )
        store.upgrade()
        with store.engine.connect() as conn:
            tenants = dict(conn.execute(text("SELECT id, tenant_id FROM fo_environments")).all())
            claims = conn.execute(
                text("SELECT location, tenant_id, fo_environment_id FROM store_claims")
            ).all()
            operators = conn.execute(text("SELECT upn FROM users WHERE is_operator")).scalars()
            assert list(operators) == ["admin@contoso.onmicrosoft.com"]
            # Rebuilding a table on SQLite must not cascade into the rows that refer to it.
            for child in ("role_assignments", "fo_environment_users"):
                assert conn.execute(text(f"SELECT count(*) FROM {child}")).scalar_one() == 2
        assert tenants == {1: 1, 2: 2}
        assert [tuple(c) for c in claims] == [(f"sqlite:{shared.resolve()}", 1, 1)]
    finally:
        store.dispose()


def test_oauth_migration_gives_directory_ids_and_registers_the_dualwrite_application(
    database_url: str,
) -> None:
    """0013 on a store of before: tenants and users get GUIDs of their own, and the dual-write
    application ID of each F&O ↔ Dataverse pair becomes a registered application of the
    environment's tenant (without secret), so its application users can sign in."""
    store = ControlStore(database_url)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    app_id = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    try:
        store.upgrade("0012")
        with store.engine.begin() as conn:
            for n in (1, 2):
                _insert(
                    conn,
                    "tenants",
                    id=n,
                    domain=f"t{n}.onmicrosoft.com",
                    display_name=f"T{n}",
                    everyone_can_create_environments=True,
                    database_capacity_gb=10.0,
                    created_at=at,
                )
                _insert(
                    conn,
                    "users",
                    id=n,
                    tenant_id=n,
                    upn=f"admin@t{n}.onmicrosoft.com",
                    display_name="A",
                    password_hash="x",
                    is_active=True,
                    is_operator=False,
                    created_at=at,
                )
            _insert(conn, "projects", id=1, tenant_id=2, name="ERP", created_at=at)
            _insert(
                conn,
                "fo_environments",
                id=1,
                project_id=1,
                tenant_id=2,
                name="env-1",
                type="sandbox",
                region="West US",
                data_store_url="sqlite:///x.db",
                state="deployed",
                created_at=at,
            )
            _insert(
                conn,
                "platform_environments",
                id="pp-1",
                tenant_id=2,
                name="Sales",
                region="West US",
                has_dataverse=True,
                storage_used_gb=1.0,
                is_initial=False,
                created_at=at,
            )
            for side in ("fo", "dataverse"):
                _insert(
                    conn,
                    "application_users",
                    fo_environment_id=1,
                    platform_environment_id="pp-1",
                    side=side,
                    application_id=app_id,
                    name="Dual-write",
                    enabled=True,
                    created_at=at,
                )
        store.upgrade()
        with store.engine.connect() as conn:
            tenant_ids = conn.execute(text("SELECT directory_id FROM tenants")).scalars().all()
            object_ids = conn.execute(text("SELECT object_id FROM users")).scalars().all()
            apps = conn.execute(
                text("SELECT tenant_id, client_id, display_name FROM registered_applications")
            ).all()
            secrets = conn.execute(text("SELECT count(*) FROM client_secrets")).scalar_one()
        assert len(set(tenant_ids)) == 2 and all(len(t) == 36 for t in tenant_ids)
        assert len(set(object_ids)) == 2 and all(len(o) == 36 for o in object_ids)
        assert [tuple(a) for a in apps] == [(2, app_id, "Dual-write")]
        assert secrets == 0
    finally:
        store.dispose()
