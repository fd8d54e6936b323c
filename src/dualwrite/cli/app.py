"""The `dualwrite` command: one sub-command per noun, `dualwrite <noun> <verb>`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic
import typer

from dualwrite.cli import (
    account,
    apps,
    data,
    db,
    env,
    errors_cmd,
    integration,
    link,
    maps,
    operator,
    platform,
    project,
    serve,
    service,
    tenant,
    user,
)
from dualwrite.cli._context import Context
from dualwrite.cli._errors import CatchingGroup, settings_error
from dualwrite.settings import Settings

app = typer.Typer(
    cls=CatchingGroup,
    help="dualwrite: keep finance and operations and Dataverse in sync, and administer it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            help="Data directory (default: DUALWRITE_HOME or ./.dualwrite).", show_default=False
        ),
    ] = None,
) -> None:
    try:
        settings = Settings(home=home) if home else Settings()
    except pydantic.ValidationError as error:
        raise settings_error(error) from None
    context = Context(settings)
    ctx.obj = context
    ctx.call_on_close(context.close)


account.register(app)
serve.register(app)
app.add_typer(db.app, name="db")
app.add_typer(operator.app, name="operator")
app.add_typer(tenant.app, name="tenant")
app.add_typer(user.app, name="user")
app.add_typer(user.licenses_app, name="license")
app.add_typer(project.app, name="project")
integration.register(env.app)
app.add_typer(env.app, name="env")
app.add_typer(platform.app, name="platform")
app.add_typer(data.app, name="data")
app.add_typer(link.app, name="link")
app.add_typer(maps.app, name="maps")
app.add_typer(errors_cmd.app, name="errors")
app.add_typer(service.app, name="service")
app.command("workers")(service.workers_command)
app.add_typer(apps.app, name="app")


def main() -> None:
    app(prog_name="dualwrite")  # also under `python -m dualwrite.cli`
