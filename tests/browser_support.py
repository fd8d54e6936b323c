"""Shared by the browser tests: where screenshots go and what a live server offers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from factories import PASSWORD

# Test runs keep their screenshots out of the tree (build/ is ignored); `make screenshots`
# points this at docs/screenshots to refresh the README's pictures on purpose.
_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("DUALWRITE_SCREENSHOTS") or _ROOT / "build" / "screenshots")
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
ENV = "contoso-test"  # the environment of the `linked` fixture (browser/conftest.py)
DW = "dw@contoso.onmicrosoft.com"  # holds the Dual-write user role there


@dataclass
class LiveServer:
    url: str
    store: ControlStore
    settings: Settings


def sign_in(page: Any, server: LiveServer, upn: str = "admin@contoso.onmicrosoft.com") -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("User name").fill(upn)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Signed-in user")).to_contain_text(upn)
