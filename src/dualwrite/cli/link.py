"""Dual-write links: `dualwrite link create|show|apply-solution`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.errors import ERR
from dualwrite.lifecycle import environments
from dualwrite.link import links
from dualwrite.platform import environments as platform
from dualwrite.schemas import LinkRead

app = typer.Typer(help="Dual-write links between F&O and Dataverse.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The F&O environment.")],
    dataverse: Annotated[str, typer.Option(help="Power Platform environment with Dataverse.")],
    legal_entity: Annotated[list[str], typer.Option(help="Legal entity to sync; repeatable.")],
    as_json: JsonOption = False,
) -> None:
    """Link an F&O environment to a Dataverse for the chosen legal entities (tenant admins)."""
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        target = platform.get_environment(session, actor, dataverse)
        row = LinkRead.of(links.create_link(session, actor, fo_env, target, legal_entity))
    show(row, as_json)


@app.command("show")
def show_(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """Show an environment's dual-write link."""
    with current(ctx).work() as (session, actor):
        row = LinkRead.of(
            links.get_link(session, environments.get_environment(session, actor, env))
        )
    show(row, as_json)


@app.command("apply-solution")
def apply_solution(
    ctx: typer.Context,
    env: str,
    file: Annotated[
        list[Path] | None,
        typer.Option(help="Solution TOML file; repeatable. Default: the shipped solutions."),
    ] = None,
) -> None:
    """Apply solutions and publish their table maps on the link (tenant admins)."""
    texts: list[tuple[str, str]] = []
    for path in file or []:
        try:
            texts.append((path.name, path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ERR.INVALID_INPUT.error(
                field="--file", problem=f"{path}: {exc.strerror}"
            ) from None
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        if texts:
            maps = links.apply_solutions(session, actor, link, texts)
        else:
            maps = links.apply_default_solutions(session, actor, link)
        count = len(maps)
    done(f"{count} table maps published on {env}. Run them with `dualwrite maps run {env} …`.")
