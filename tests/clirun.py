"""Helpers for CLI tests: the runner's call shape and JSON output parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def integrate(run: Run, env: str, dataverse: str, admin_name: str = "Contoso Admin") -> None:
    """Power Platform integration with an existing Dataverse and the dual-write application,
    as an environment manager does it from the CLI (the admin gets a qualifying license)."""
    run("user", "license", "admin@contoso.onmicrosoft.com", "D365_FINANCE")
    run("env", "ppi", "setup", env, "--existing", dataverse, "--confirm-name", admin_name)
    run("env", "dualwrite-app", env, "--accept-terms")
