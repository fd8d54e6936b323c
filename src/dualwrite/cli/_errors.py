"""The CLI's one place for errors: DW code, message and hint on stderr, exit 1, no traceback."""

from __future__ import annotations

import errno
from typing import Any

import pydantic
import typer
from rich.console import Console
from typer.core import TyperGroup

from dualwrite.errors import ERR, DualWriteError

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def render(error: DualWriteError) -> None:
    stderr.print(f"[bold red]Error {error.code}:[/] {error.message}", markup=True)
    if error.hint:
        stderr.print(f"[dim]Hint:[/] {error.hint}", markup=True)


class CatchingGroup(TyperGroup):
    """Root command group that turns our errors into a message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context type is private
        try:
            return super().invoke(ctx)
        except DualWriteError as error:
            render(error)
            raise typer.Exit(1) from None
        except OSError as error:
            if error.errno == errno.EPIPE:  # output piped into `head`: click exits quietly
                raise
            render(file_error(error))
            raise typer.Exit(1) from None


def file_error(error: OSError) -> DualWriteError:
    """A folder or file we could not use (a --home that cannot be created, a full disk…)."""
    where = error.filename if error.filename is not None else "file"
    return ERR.INVALID_INPUT.error(field=str(where), problem=error.strerror or str(error))


def settings_error(error: pydantic.ValidationError) -> DualWriteError:
    """A bad DUALWRITE_* variable, named as the user set it."""
    first = error.errors()[0]
    loc = "_".join(str(part) for part in first["loc"])
    field = f"DUALWRITE_{loc.upper()}" if loc else "settings"
    problem = first["msg"].removeprefix("Value error, ")
    return ERR.INVALID_INPUT.error(field=field, problem=problem)
