"""The control store: one SQL database holding tenants, users, projects and environments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dualwrite.databases import READS_ONLY, display_url, make_engine, translate_errors
from dualwrite.errors import ERR

MIGRATIONS = Path(__file__).with_name("migrations")


class ControlStore:
    """Engine, sessions and migrations of the control database."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url, write_locking=True)
        self.url = display_url(self.engine.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reading = sessionmaker(
            self.engine.execution_options(**{READS_ONLY: True}), expire_on_commit=False
        )

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    @contextmanager
    def _migrating(self) -> Iterator[Config]:
        """One transaction for the migrations. On SQLite, foreign keys are off meanwhile:
        altering a table there means copying it and dropping the original, and with them on
        the drop would cascade into every table that refers to it (a user's roles, an
        environment's jobs). The PRAGMA only works outside a transaction, so it is set on the
        driver's connection before SQLAlchemy begins one; references are checked at the end."""
        with translate_errors(self.engine.url), self.engine.connect() as conn:
            sqlite = self.engine.dialect.name == "sqlite"
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    cfg = self.alembic_config()
                    cfg.attributes["connection"] = conn
                    yield cfg
                    if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                        raise RuntimeError("a migration left rows that refer to missing rows")
            finally:
                if sqlite:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]

    def upgrade(self, revision: str = "head") -> None:
        with self._migrating() as cfg:
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str = "base") -> None:
        with self._migrating() as cfg:
            command.downgrade(cfg, revision)

    def current_revision(self) -> str | None:
        with translate_errors(self.engine.url), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_current(self) -> bool:
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        return self.current_revision() == head

    def require_initialised(self) -> None:
        if self.current_revision() is None:
            raise ERR.NOT_INITIALISED.error(where=self.url, elsewhere="")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        with translate_errors(self.engine.url), self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads (the sync worker's frequent look at what to run): on
        SQLite it does not take the write lock that `session` takes."""
        with translate_errors(self.engine.url), self._reading.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
