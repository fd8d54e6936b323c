"""Output for people (Rich tables) and for scripts (--json, the API's schemas)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (the API's shapes).")]


def print_json(data: BaseModel | Sequence[BaseModel]) -> None:
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    else:
        payload = [item.model_dump(mode="json") for item in data]
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def print_table(rows: Sequence[BaseModel], columns: Sequence[str], title: str = "") -> None:
    table = Table(title=title or None, show_lines=False)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        data = row.model_dump(mode="json")
        table.add_row(*(_cell(data.get(c)) for c in columns))
    console.print(table)


def print_record(record: BaseModel, title: str = "") -> None:
    table = Table(title=title or None, show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in record.model_dump(mode="json").items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = "; ".join(_cell(v) for v in value)
        table.add_row(key.replace("_", " "), _cell(value))
    console.print(table)


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
