"""Output for people (Rich tables) and for scripts (--json, the API's schemas)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (the API's shapes).")]

# Wide enough for any URL or ID; a table only takes the width its cells need.
PIPE_WIDTH = 10_000


def print_json(data: BaseModel | Sequence[BaseModel]) -> None:
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    else:
        payload = [item.model_dump(mode="json") for item in data]
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def cell(value: Any) -> str:
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return "\n".join(" · ".join(cell(v) for v in item.values()) for item in value)
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def table_console() -> Console:
    """In a terminal, its width; piped or redirected, nothing is cut (unless COLUMNS says so)."""
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH)


def print_table(rows: Sequence[BaseModel], columns: Sequence[str], title: str = "") -> None:
    table = Table(title=title or None, caption=None if rows else "none", show_lines=False)
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        data = row.model_dump(mode="json")
        table.add_row(*(cell(data.get(c)) for c in columns))
    table_console().print(table)


def print_record(record: BaseModel, title: str = "") -> None:
    table = Table(title=title or None, show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in record.model_dump(mode="json").items():
        table.add_row(key.replace("_", " "), cell(value))
    table_console().print(table)


def show(data: BaseModel | Sequence[BaseModel], as_json: bool, columns: Sequence[str] = ()) -> None:
    """Print one record or a list, as JSON or as a table."""
    if as_json:
        print_json(data)
    elif isinstance(data, BaseModel):
        print_record(data)
    else:
        print_table(data, columns)


def done(message: str) -> None:
    console.print(f"[green]✓[/] {message}", markup=True)
