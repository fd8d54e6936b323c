"""Control store migrations: `dualwrite db upgrade|current`."""

from __future__ import annotations

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import console, done

app = typer.Typer(help="Control store schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations to the control store."""
    store = current(ctx).store(initialised=False)
    store.upgrade()
    done(f"{store.url} is at revision {store.current_revision()}.")


@app.command("current")
def current_revision(ctx: typer.Context) -> None:
    """Print the control store's schema revision."""
    store = current(ctx).store(initialised=False)
    revision = store.current_revision()
    state = "up to date" if store.is_current() else "needs `dualwrite db upgrade`"
    console.print(f"{store.url}: revision {revision or 'none'} ({state})")
