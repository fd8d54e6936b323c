"""What every command needs: settings, the control store, and the signed-in user."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from dualwrite.control.models import User
from dualwrite.control.store import ControlStore
from dualwrite.databases import display_url
from dualwrite.errors import ERR
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SignIn
from dualwrite.settings import Settings


@dataclass
class Context:
    settings: Settings
    _store: ControlStore | None = field(default=None, repr=False)

    def store(self, initialised: bool = True) -> ControlStore:
        if self._store is None:
            if initialised:
                self._require_control_file()
            self._store = ControlStore(self.settings.control_url)
        if initialised:
            self._store.require_initialised()
        return self._store

    def _require_control_file(self) -> None:
        """A command that needs an initialised store fails without creating one: no folder or
        empty database is left behind by a mistyped --home."""
        if self.settings.database_url or self.settings.control_file.exists():
            return
        from dualwrite.demo import demo_settings  # here: the demo module is a heavy import

        demo = demo_settings(self.settings).home
        if (demo / "control.db").exists():
            quoted = shlex.quote(str(demo))
            elsewhere = (
                f", or use the demo's data directory: `dualwrite --home {quoted} …` "
                f"(or DUALWRITE_HOME={quoted})"
            )
        else:
            elsewhere = ", or point --home (DUALWRITE_HOME) at an initialised data directory"
        where = display_url(self.settings.control_url)
        raise ERR.NOT_INITIALISED.error(where=where, elsewhere=elsewhere)

    def token(self) -> str:
        token = os.environ.get("DUALWRITE_TOKEN")
        if token:
            return token
        try:
            data = json.loads(self.settings.credentials_file.read_text())
        except (OSError, ValueError):
            raise ERR.NOT_SIGNED_IN.error() from None
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ERR.NOT_SIGNED_IN.error()
        return token

    @contextmanager
    def work(self) -> Iterator[tuple[Session, User]]:
        """One unit of work as the signed-in user; it commits when the block ends."""
        with self.store().session() as session:
            yield session, sessions.authenticate(session, self.token())

    def save_credentials(self, signed: SignIn) -> Path:
        """Keep the token for later commands, readable by this user only."""
        path = self.settings.credentials_file
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"token": signed.token, "upn": signed.upn})
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            path.chmod(0o600)  # before writing: a file that was already there keeps its mode
            handle.write(payload)
        return path

    def forget_credentials(self) -> None:
        self.settings.credentials_file.unlink(missing_ok=True)

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()


def current(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)  # noqa: S101 - set by the root callback
    return obj
