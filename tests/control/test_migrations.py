"""Alembic migrations go up to head and back down to base on every backend."""

from __future__ import annotations

from sqlalchemy import inspect, text

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
