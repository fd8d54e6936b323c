"""Every command of the CLI is documented in docs/cli.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from dualwrite.cli.app import app

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def _commands(command: Any, path: list[str]) -> Iterator[str]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield " ".join(path)
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, [*path, name])


def test_every_command_is_documented() -> None:
    commands = list(_commands(typer.main.get_command(app), ["dualwrite"]))
    assert len(commands) > 30
    missing = [c for c in commands if f"### `{c}`" not in DOCS]
    assert missing == []


def test_every_command_has_an_example() -> None:
    # "### `dualwrite env list`\nWhat it does. `dualwrite env list --json`": heading, example.
    sections = {part.split("`", 1)[0]: part.split("\n", 1)[1] for part in DOCS.split("### `")[1:]}
    without = [command for command, text in sections.items() if f"`{command}" not in text]
    assert without == []


def test_every_command_has_help() -> None:
    group = typer.main.get_command(app)
    for name, command in getattr(group, "commands", {}).items():
        assert command.help, name
