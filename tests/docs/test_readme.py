"""Docs that cannot drift: the README shows the two commands CI runs and every setting."""

from __future__ import annotations

import re
from pathlib import Path

from dualwrite.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_demo_and_test_commands() -> None:
    head = README.splitlines()[:8]
    assert any(re.match(r"^make demo\b", line) for line in head)
    assert any(re.match(r"^make test\b", line) for line in head)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"DUALWRITE_{name.upper()}" in README, f"DUALWRITE_{name.upper()} missing in README"
