"""Fresh, named PostgreSQL databases for benchmarks (dropped and created anew each run)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_postgres(name: str) -> str:
    """Drop and create database `name`; return its URL. Raises when the server is absent."""
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"
