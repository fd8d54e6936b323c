"""Whether a link's two data stores answer, and since when not (seed 002: the Dual-write page,
Stop and "Force Not running" must keep working while the linked Dataverse is away).

Since when is kept in the activity log (no schema of its own): "<store> unreachable" when a store
stops answering, "<store> reachable again" when it answers; an outage began with the first
"unreachable" entry after the last "reachable again". The sync worker writes them as it runs
into the failure; the pages write them too, for when no worker is running."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualwrite.control.models import ActivityEntry, DualWriteLink, User, as_utc
from dualwrite.databases import check_reachable, display_url, make_engine, parse_url
from dualwrite.errors import DualWriteError, UnavailableError
from dualwrite.link.links import is_tenant_admin
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind

HIDDEN_PATH = "sqlite:///<path shown to administrators>"
HIDDEN_FOLDER = "<folder shown to administrators>"


class StoreSide(StrEnum):
    DATAVERSE = "dataverse"
    FO = "fo"

    @property
    def label(self) -> str:
        if self is StoreSide.DATAVERSE:
            return "Dataverse data store"
        return "Finance and operations data store"


@dataclass(frozen=True)
class Outage:
    """A store that does not answer: the driver's failure as DW2002 (password-masked URL)."""

    side: StoreSide
    error: DualWriteError
    since: datetime | None = None

    @property
    def reason(self) -> str:
        return reason(self.side, self.error)


def store_urls(link: DualWriteLink) -> dict[StoreSide, str]:
    return {
        StoreSide.DATAVERSE: link.platform_environment.dataverse_url or "",
        StoreSide.FO: link.fo_environment.data_store_url,
    }


def side_of(urls: dict[StoreSide, str], error: DualWriteError) -> StoreSide | None:
    """Which store an unavailable error names (DW2002 and DW2006 carry its masked URL)."""
    named = error.details.get("url")
    for side, raw in urls.items():
        try:
            if named == display_url(parse_url(raw)):
                return side
        except DualWriteError:  # a URL that does not parse names nothing
            continue
    return None


def reason(side: StoreSide | None, error: DualWriteError) -> str:
    """The failure without the URL, for messages anyone may read (DW9404, the maps' figures)."""
    store = side.label if side else "A data store"
    problem = error.details.get("problem", error.message)
    return f"{store} cannot be reached ({error.code}): {problem}"


def unreachable_reason(link: DualWriteLink, error: DualWriteError) -> str:
    return reason(side_of(store_urls(link), error), error)


def probe(raw: str) -> DualWriteError | None:
    """A new connection, never a pooled one: a SQLite connection opened before the file was
    replaced still works on the old file, so only a fresh one tells whether the store answers."""
    try:
        engine = make_engine(raw)
    except UnavailableError as error:  # DW2006: the SQLite file's folder cannot be made
        return error
    try:
        check_reachable(engine)
    except UnavailableError as error:
        return error
    finally:
        engine.dispose()
    return None


def check(session: Session, link: DualWriteLink) -> list[Outage]:
    """Try both stores now (one connection each); note what changed in the activity log and
    return the stores that do not answer, with since when."""
    outages = []
    for side, raw in store_urls(link).items():
        error = probe(raw)
        if error is None:
            note_reachable(session, link.fo_environment_id, side)
        else:
            since = note_unreachable(session, link.fo_environment_id, side, error)
            outages.append(Outage(side, error, since))
    return outages


def _down(side: StoreSide) -> str:
    return f"{side.label} unreachable"


def _back(side: StoreSide) -> str:
    return f"{side.label} reachable again"


def unreachable_since(session: Session, env_id: int, side: StoreSide) -> datetime | None:
    """When the store's current outage began, None if it is not known to be unreachable."""
    mine = (
        ActivityEntry.fo_environment_id == env_id,
        ActivityEntry.kind == ActivityKind.AVAILABILITY.value,
    )
    back = session.scalar(
        select(func.max(ActivityEntry.id)).where(*mine, ActivityEntry.message == _back(side))
    )
    first = session.scalar(
        select(ActivityEntry.at)
        .where(*mine, ActivityEntry.message.startswith(_down(side)), ActivityEntry.id > (back or 0))
        .order_by(ActivityEntry.id)
        .limit(1)
    )
    return as_utc(first) if first is not None else None


def note_unreachable(
    session: Session, env_id: int, side: StoreSide, error: DualWriteError
) -> datetime:
    """Log the first failure of an outage (without the URL: every viewer reads the log)."""
    since = unreachable_since(session, env_id, side)
    if since is not None:
        return since
    problem = error.details.get("problem", error.code)
    entry = activity.record(
        session, env_id, ActivityKind.AVAILABILITY, f"{_down(side)} ({error.code}): {problem}"
    )
    session.flush()
    return as_utc(entry.at)


def note_reachable(session: Session, env_id: int, side: StoreSide) -> None:
    if unreachable_since(session, env_id, side) is not None:
        activity.record(session, env_id, ActivityKind.AVAILABILITY, _back(side))
        session.flush()


def _private(link: DualWriteLink) -> list[tuple[str, str]]:
    """What a SQLite store's URL tells about the server's file system, and its stand-ins."""
    out = []
    for raw in store_urls(link).values():
        try:
            url = parse_url(raw)
        except DualWriteError:
            continue
        if url.drivername == "sqlite" and url.database:
            out.append((display_url(url), HIDDEN_PATH))
            folder = str(Path(url.database).expanduser().parent)
            if "/" in folder or "\\" in folder:  # not a bare word like "data": it may be prose
                out.append((folder, HIDDEN_FOLDER))
    return out


def shown_to(viewer: User, link: DualWriteLink, text: str | None) -> str | None:
    """A message as `viewer` may read it: file paths only for tenant administrators (other
    URLs are shown with their password masked, as every DW message does)."""
    if text is None or is_tenant_admin(viewer, link.fo_environment.project.tenant_id):
        return text
    for private, stand_in in _private(link):
        text = text.replace(private, stand_in)
    return text
