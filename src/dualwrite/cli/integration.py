"""Environment details in Lifecycle Services: `dualwrite env ppi …`, `env dualwrite-app`,
`env link-platform`, `env jobs|job`, `env app-users|app-user|fix-app-users`,
`env users|grant|revoke`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dualwrite.cli._context import Context, current
from dualwrite.cli._output import JsonOption, console, done, print_table, show
from dualwrite.jobs.model import environment_jobs, get_job, job_error
from dualwrite.jobs.runner import run_job
from dualwrite.lifecycle import appusers, dualwrite_app, environments, linking, ppi
from dualwrite.lifecycle.details import integration_section
from dualwrite.schemas import (
    ApplicationUserRead,
    CheckRead,
    EnvironmentUserRead,
    JobRead,
    PowerPlatformIntegrationRead,
)

ppi_app = typer.Typer(
    help="Power Platform integration of an environment (new or existing Dataverse).",
    no_args_is_help=True,
)
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Run the job here with progress (default), or leave it to `dualwrite serve`.",
    ),
]
ExistingOption = Annotated[
    str | None,
    typer.Option(
        "--existing",
        help="Use a different Power Platform environment: its name or ID (seed 003 validations).",
    ),
]
JOB_COLUMNS = ("id", "kind", "state", "step", "percent", "requested_by", "created_at", "error")
CHECK_COLUMNS = ("name", "passed", "message", "hint")


def _follow(context: Context, env: str, job_id: int, wait: bool, as_json: bool) -> None:
    """Run the queued job here, showing its steps, or say who will; then show its outcome."""
    if wait:
        columns = (TextColumn("{task.description:<64}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("Queued", total=100)

            def step(text: str, percent: int) -> None:
                bar.update(task, description=text, completed=percent)

            run_job(context.store(), job_id, step)
            bar.update(task, completed=100)
    with context.work() as (session, actor):
        job = get_job(session, environments.get_environment(session, actor, env), job_id)
        row, error = JobRead.of(job), job_error(job)
    if error is not None:
        raise error
    show(row, as_json)
    if not wait:
        done(
            f"Job {job_id} queued; `dualwrite serve` (or `dualwrite worker`) runs it. "
            f"Follow it with `dualwrite env job {env} {job_id}`."
        )


@ppi_app.command("show")
def ppi_show(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """The Power Platform Integration section: Dataverse, dual-write application, linking."""
    with current(ctx).work() as (session, actor):
        section: PowerPlatformIntegrationRead = integration_section(
            session, environments.get_environment(session, actor, env)
        )
    show(section, as_json)
    if section.linking.warning and not as_json:
        console.print(f"[yellow]Warning:[/] {section.linking.warning}", markup=True)
        for fix in section.linking.fixes:
            console.print(f"  • {fix}")


@ppi_app.command("validate")
def ppi_validate(
    ctx: typer.Context, env: str, existing: ExistingOption = None, as_json: JsonOption = False
) -> None:
    """Run the Setup dialog's validations without changing anything; exit 1 if any fails."""
    request = ppi.SetupRequest(use_existing=existing is not None, platform_environment=existing)
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        rows = [CheckRead.of(c) for c in ppi.check_setup(session, actor, fo_env, request)]
    show(rows, as_json, CHECK_COLUMNS)
    if not all(r.passed for r in rows):
        raise typer.Exit(1)


@ppi_app.command("setup")
def ppi_setup(
    ctx: typer.Context,
    env: str,
    existing: ExistingOption = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="New Dataverse only: empty or existing database; default a SQLite file."),
    ] = None,
    confirm_name: Annotated[
        str | None,
        typer.Option(help="This cannot be reversed: type your display name to confirm."),
    ] = None,
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Set up Power Platform integration with a new Dataverse, or an existing one (--existing).
    Irreversible: asks for your name (or takes --confirm-name), then provisions as a job."""
    context = current(ctx)
    if confirm_name is None and sys.stdin.isatty():
        console.print(
            "[bold]This cannot be reversed.[/] Connecting the environment to Power Platform and "
            "Dataverse is like applying a platform update: it can't be undone.",
            markup=True,
        )
        confirm_name = typer.prompt("Type your name to proceed", default="", show_default=False)
    request = ppi.SetupRequest(
        use_existing=existing is not None,
        platform_environment=existing,
        dataverse_url=database_url,
        confirm_name=confirm_name,
    )
    with context.work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        job_id = ppi.request_setup(session, context.settings, actor, fo_env, request).id
    _follow(context, env, job_id, wait, as_json)


def dualwrite_application(
    ctx: typer.Context,
    env: str,
    accept_terms: Annotated[
        bool, typer.Option("--accept-terms", help="Accept the terms and conditions.")
    ] = False,
    dataverse: Annotated[
        str | None,
        typer.Option(help="Another Dataverse than the integrated one (manual prerequisites)."),
    ] = None,
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Dual-write application: create the application users and install the orchestration
    solutions into the integrated Dataverse (or --dataverse), as a job."""
    context = current(ctx)
    if not accept_terms:
        console.print(f"[bold]Terms and conditions[/]\n{dualwrite_app.TERMS}", markup=True)
        accept_terms = sys.stdin.isatty() and typer.confirm("Accept and configure?")
    with context.work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        job_id = dualwrite_app.request_install(session, actor, fo_env, accept_terms=accept_terms).id
    _follow(context, env, job_id, wait, as_json)


def link_platform(
    ctx: typer.Context, env: str, wait: WaitOption = True, as_json: JsonOption = False
) -> None:
    """Link to Power Platform environment: dual-write to the integrated Dataverse (a job)."""
    context = current(ctx)
    with context.work() as (session, actor):
        job_id = linking.request_link(
            session, actor, environments.get_environment(session, actor, env)
        ).id
    _follow(context, env, job_id, wait, as_json)
    with context.work() as (session, actor):
        status = linking.linking_status(session, environments.get_environment(session, actor, env))
    if status.dualwrite_page and not as_json:
        done(f"Linked. Dual-write page: {status.dualwrite_page}")


def jobs(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """The environment's recent jobs, newest first."""
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        rows = [JobRead.of(j) for j in environment_jobs(session, fo_env)]
    show(rows, as_json, JOB_COLUMNS)


def job(ctx: typer.Context, env: str, job_id: int, as_json: JsonOption = False) -> None:
    """One job: its step, progress, and error if it failed."""
    with current(ctx).work() as (session, actor):
        row = JobRead.of(
            get_job(session, environments.get_environment(session, actor, env), job_id)
        )
    show(row, as_json)


def _app_user_rows(context: Context, env: str) -> list[ApplicationUserRead]:
    with context.work() as (session, actor):
        section = integration_section(session, environments.get_environment(session, actor, env))
    return section.application_users


APP_USER_COLUMNS = ("side", "platform_environment", "application_id", "security_role", "enabled")


def app_users(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """The dual-write application users of the environment and its integrated Dataverse."""
    rows = _app_user_rows(current(ctx), env)
    show(
        rows,
        as_json,
        APP_USER_COLUMNS,
    )


def app_user(
    ctx: typer.Context,
    env: str,
    side: Annotated[appusers.AppSide, typer.Option(help="fo or dataverse.")],
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="Enable or disable it.")
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="Security role; an empty string removes it.")
    ] = None,
) -> None:
    """Change an application user (what a Dataverse or F&O administrator would)."""
    context = current(ctx)
    with context.work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        target = dualwrite_app.require_integration(fo_env)
        appusers.update_application_user(
            session, actor, fo_env, target, side, enabled=enabled, security_role=role
        )
    print_table(
        _app_user_rows(context, env),
        APP_USER_COLUMNS,
    )


def fix_app_users(
    ctx: typer.Context,
    env: str,
    dataverse: Annotated[
        str | None,
        typer.Option(help="The Power Platform environment of the pair (default: integrated)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fix DW9003: create, enable and give a security role to the application users of the
    environment and a Dataverse (tenant administrators)."""
    context = current(ctx)
    with context.work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        target = dualwrite_app.pair_target(session, actor, fo_env, dataverse)
        rows = [
            ApplicationUserRead.of(u, target.name)
            for u in appusers.fix_application_users(session, actor, fo_env, target)
        ]
    show(rows, as_json, APP_USER_COLUMNS)


def users(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """Users with a security role inside the environment."""
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        rows = [EnvironmentUserRead(upn=u.user.upn, role=u.role.value) for u in fo_env.users]
    show(rows, as_json, ("upn", "role"))


def grant(
    ctx: typer.Context,
    env: str,
    upn: str,
    role: Annotated[str, typer.Option(help="dualwrite-user (Dual-write user).")] = "dualwrite-user",
) -> None:
    """Give a user a security role in the environment (e.g. to run and edit table maps)."""
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        granted = environments.grant_environment_role(session, actor, fo_env, upn, role)
        message = f"{granted.user.upn} is {granted.role.value} in {fo_env.name}."
    done(message)


def revoke(ctx: typer.Context, env: str, upn: str) -> None:
    """Remove a user's security role in the environment."""
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        environments.revoke_environment_role(session, actor, fo_env, upn)
    done(f"{upn} has no security role in {env} any more.")


def register(env_app: typer.Typer) -> None:
    env_app.add_typer(ppi_app, name="ppi")
    env_app.command("dualwrite-app")(dualwrite_application)
    env_app.command("link-platform")(link_platform)
    env_app.command("jobs")(jobs)
    env_app.command("job")(job)
    env_app.command("app-users")(app_users)
    env_app.command("app-user")(app_user)
    env_app.command("fix-app-users")(fix_app_users)
    env_app.command("users")(users)
    env_app.command("grant")(grant)
    env_app.command("revoke")(revoke)
