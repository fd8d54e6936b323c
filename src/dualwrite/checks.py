"""Named checks that pass or fail with the error that says how to fix them (Power Platform
integration validations, the link wizard's health check)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dualwrite.errors import DualWriteError


@dataclass(frozen=True)
class Check:
    name: str
    error: DualWriteError | None = None
    fix: str | None = None  # the web UI page that fixes a failed check, when there is one

    @property
    def passed(self) -> bool:
        return self.error is None


def run_check(name: str, probe: Callable[[], None], fix: str | None = None) -> Check:
    """Run one probe: it raises a DualWriteError to fail, naming the problem and the fix (and
    `fix`, the page where it is fixed)."""
    try:
        probe()
    except DualWriteError as error:
        return Check(name, error, fix)
    return Check(name)


def failures(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]


def summary(checks: Sequence[Check]) -> str:
    """One line per failed check: `name: message`."""
    return "\n  ".join(f"{c.name}: {c.error.message}" for c in failures(checks) if c.error)
