"""Dual-write links, the link wizard's steps: `dualwrite link environments|check|create|show|
reset|apply-solution`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, console, done, show
from dualwrite.errors import ERR
from dualwrite.lifecycle import environments, linking
from dualwrite.link import links, wizard
from dualwrite.platform import environments as platform
from dualwrite.schemas import CheckRead, LinkRead, PlatformEnvironmentRead

app = typer.Typer(help="Dual-write links between F&O and Dataverse.", no_args_is_help=True)


DataverseOption = Annotated[
    str, typer.Option(help="Power Platform environment with Dataverse (name or ID).")
]
LegalEntityOption = Annotated[list[str], typer.Option(help="Legal entity to sync; repeatable.")]


@app.command("environments")
def environments_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The link wizard's first step: Dataverse environments where you are an environment admin."""
    with current(ctx).work() as (session, actor):
        rows = [PlatformEnvironmentRead.of(e) for e in wizard.wizard_environments(session, actor)]
    show(rows, as_json, ("name", "id", "region", "geography", "fo_environment"))


@app.command()
def check(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The F&O environment.")],
    dataverse: DataverseOption,
    legal_entity: LegalEntityOption,
    as_json: JsonOption = False,
) -> None:
    """The wizard's health check: each check passes or fails with its fix; exit 1 on a failure.
    Run it again after fixing."""
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        target = platform.get_environment(session, actor, dataverse)
        rows = [
            CheckRead.of(c)
            for c in wizard.health_check(session, actor, fo_env, target, legal_entity)
        ]
    show(rows, as_json, ("name", "passed", "message", "hint"))
    if not all(r.passed for r in rows):
        raise typer.Exit(1)


@app.command()
def create(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The F&O environment.")],
    dataverse: DataverseOption,
    legal_entity: LegalEntityOption,
    consent: Annotated[
        bool, typer.Option("--consent", help="Consent to the privacy notice (asked otherwise).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The wizard's Create: link an F&O environment to a Dataverse for the chosen legal entities
    (tenant admins; the health check must pass)."""
    if not consent:
        console.print(f"[bold]Privacy notice[/]\n{wizard.PRIVACY_NOTICE}", markup=True)
        consent = sys.stdin.isatty() and typer.confirm("Do you consent?")
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        target = platform.get_environment(session, actor, dataverse)
        link = wizard.create_link(session, actor, fo_env, target, legal_entity, consent=consent)
        row = LinkRead.of(link)
    show(row, as_json)


@app.command()
def reset(ctx: typer.Context, env: str) -> None:
    """Reset linking: unlink dual-write (stop every table map first) to link again."""
    with current(ctx).work() as (session, actor):
        linking.reset_link(session, actor, environments.get_environment(session, actor, env))
    done(f"{env} is no longer linked. Link it again with `dualwrite link create {env} …`.")


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
            maps = links.add_table_maps(session, actor, link, texts)
        else:
            maps = links.apply_default_solutions(session, actor, link)
        count = len(maps)
    done(f"{count} table maps published on {env}. Run them with `dualwrite maps run {env} …`.")
