"""Capture triggers for SQLite, PostgreSQL and MariaDB: install, remove, list."""

# ruff: noqa: S608 - DDL is built from identifiers checked by _ident(), never from user values.

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, Table, UniqueConstraint, text

from dualwrite.databases import translate_errors, writing
from dualwrite.engine.capture.origin import MARIADB_VARIABLE, POSTGRES_SETTING
from dualwrite.engine.capture.schema import ensure_capture_schema
from dualwrite.errors import ERR

PREFIX = "dw_capture"
# Conflicts compare capture times across the two sides: keep milliseconds, not whole seconds.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
OPS = (("I", "INSERT"), ("U", "UPDATE"), ("D", "DELETE"))


_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    """Trigger DDL cannot take bound parameters: accept only plain lowercase identifiers."""
    if not _IDENT.match(name):
        raise ERR.INVALID_INPUT.error(
            field="table or column name", problem=f"'{name}' is not a plain lowercase identifier"
        )
    return name


def _name(table: str, op: str = "") -> str:
    return f"{PREFIX}_{op.lower()}_{table}" if op else f"{PREFIX}_{table}"


def key_columns(table: Table) -> list[str]:
    """The columns that identify a row: primary key and every unique constraint's columns."""
    names = [c.name for c in table.primary_key.columns]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            names += [c.name for c in constraint.columns]
    return list(dict.fromkeys(names))


def _json_args(table: Table, row: str, function: str) -> str:
    # Only key columns: the reader fetches the current row itself. Serializing whole rows in
    # the trigger doubled the cost of a write on SQLite (bench/capture_overhead.py).
    pairs = ", ".join(f"'{_ident(c)}', {row}.{c}" for c in key_columns(table))
    return f"{function}({pairs})"


def _images(table: Table, op: str, function: str) -> tuple[str, str]:
    old = _json_args(table, "OLD", function) if op in ("U", "D") else "NULL"
    new = _json_args(table, "NEW", function) if op in ("I", "U") else "NULL"
    return old, new


def _refusal(table: Table) -> str:
    """The message a writer sees while the table's paused map is over its queue limit."""
    return (
        f"DW5007: writes to {table.name} are refused: its paused table map passed its queue "
        "limit. Resume the map (dualwrite maps resume) to play the queue back."
    )


GUARDED = "EXISTS (SELECT 1 FROM dw_queue_guard WHERE table_name = '{table}')"


def _sqlite(conn: Connection, table: Table) -> None:
    for op, event in OPS:
        old, new = _images(table, op, "json_object")
        conn.execute(text(f"DROP TRIGGER IF EXISTS {_name(table.name, op)}"))
        conn.execute(
            text(
                f"CREATE TRIGGER {_name(table.name, op)} AFTER {event} ON {table.name} "
                "WHEN NOT EXISTS (SELECT 1 FROM dw_apply_marker) BEGIN "
                f"SELECT RAISE(ABORT, '{_refusal(table)}') "
                f"WHERE {GUARDED.format(table=table.name)}; "
                "INSERT INTO dw_changelog (table_name, op, old_data, new_data, captured_at) "
                f"VALUES ('{table.name}', '{op}', {old}, {new}, {SQLITE_NOW}); END"
            )
        )


def _mariadb(conn: Connection, table: Table) -> None:
    for op, event in OPS:
        old, new = _images(table, op, "JSON_OBJECT")
        conn.execute(text(f"DROP TRIGGER IF EXISTS {_name(table.name, op)}"))
        conn.execute(
            text(
                f"CREATE TRIGGER {_name(table.name, op)} AFTER {event} ON {table.name} "
                f"FOR EACH ROW BEGIN IF {MARIADB_VARIABLE} IS NULL "
                f"OR {MARIADB_VARIABLE} <> 'engine' THEN "
                f"IF {GUARDED.format(table=table.name)} THEN "
                f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{_refusal(table)}'; END IF; "
                "INSERT INTO dw_changelog (table_name, op, old_data, new_data, captured_at) "
                f"VALUES ('{table.name}', '{op}', {old}, {new}, NOW(6)); END IF; END"
            )
        )


def _postgresql(conn: Connection, table: Table) -> None:
    old, new = _images(table, "U", "jsonb_build_object")
    function = _name(table.name)
    conn.execute(
        text(
            f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('{POSTGRES_SETTING}', true) = 'engine' THEN
    RETURN NULL;
  END IF;
  IF {GUARDED.format(table=table.name)} THEN
    RAISE EXCEPTION '{_refusal(table)}' USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO dw_changelog (table_name, op, old_data, new_data, txid)
  VALUES (
    '{table.name}',
    left(TG_OP, 1),
    CASE WHEN TG_OP <> 'INSERT' THEN ({old})::text END,
    CASE WHEN TG_OP <> 'DELETE' THEN ({new})::text END,
    pg_current_xact_id()::text::bigint
  );
  -- One notification per table and transaction: NOTIFY folds identical payloads.
  PERFORM pg_notify('dw_changes', '{table.name}');
  RETURN NULL;
END $$"""
        )
    )
    conn.execute(text(f"DROP TRIGGER IF EXISTS {function} ON {table.name}"))
    # The WHEN clause skips the engine's own writes before PL/pgSQL runs or an after-trigger
    # event is queued: a bulk copy of many rows then costs no trigger work per row.
    conn.execute(
        text(
            f"CREATE TRIGGER {function} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table.name} FOR EACH ROW "
            f"WHEN (current_setting('{POSTGRES_SETTING}', true) IS DISTINCT FROM 'engine') "
            f"EXECUTE FUNCTION {function}()"
        )
    )


def install_capture(engine: Engine, tables: Sequence[Table]) -> None:
    """(Re)install capture on `tables`; from then on every committed write is in the log."""
    ensure_capture_schema(engine)
    install = {"postgresql": _postgresql, "sqlite": _sqlite}.get(engine.dialect.name, _mariadb)
    with writing(engine) as conn:  # DROP IF EXISTS looks before CREATE writes
        for table in tables:
            _ident(table.name)
            install(conn, table)


def uninstall_capture(engine: Engine, tables: Sequence[Table]) -> None:
    with writing(engine) as conn:
        for table in tables:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"DROP TRIGGER IF EXISTS {_name(table.name)} ON {table.name}"))
                conn.execute(text(f"DROP FUNCTION IF EXISTS {_name(table.name)}()"))
            else:
                for op, _event in OPS:
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {_name(table.name, op)}"))


def installed_tables(engine: Engine) -> set[str]:
    """Tables that currently have our capture triggers."""
    if engine.dialect.name == "sqlite":
        sql = "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
    else:
        schema = "current_schema()" if engine.dialect.name == "postgresql" else "DATABASE()"
        sql = (
            "SELECT trigger_name, event_object_table FROM information_schema.triggers "
            f"WHERE trigger_schema = {schema}"
        )
    with translate_errors(engine.url), engine.connect() as conn:
        return {row[1] for row in conn.execute(text(sql)) if row[0].startswith(f"{PREFIX}_")}
