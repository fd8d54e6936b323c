"""What the Dual-write and map pages show of a link as the signed-in user may read it: the data
stores that do not answer, the maps' last errors and a refused action's error, with file paths
only for tenant administrators (link/availability.shown_to)."""

from __future__ import annotations

from collections.abc import Sequence

from dualwrite.api.errors import Problem
from dualwrite.control.models import DualWriteLink, User
from dualwrite.errors import DualWriteError
from dualwrite.link.availability import Outage, shown_to
from dualwrite.schemas import DataStoreOutageRead, TableMapRead


def outage_reads(
    user: User, link: DualWriteLink, outages: Sequence[Outage]
) -> list[DataStoreOutageRead]:
    return [
        DataStoreOutageRead(
            store=o.side.label,
            code=o.error.code,
            message=shown_to(user, link, o.error.message) or "",
            hint=o.error.hint,
            since=o.since,
        )
        for o in outages
    ]


def shown_maps(user: User, link: DualWriteLink, maps: list[TableMapRead]) -> list[TableMapRead]:
    """The worker records a store's failure, URL included, as the map's last error."""
    return [m.model_copy(update={"last_error": shown_to(user, link, m.last_error)}) for m in maps]


def shown_error(
    user: User, link: DualWriteLink | None, error: DualWriteError | None
) -> Problem | None:
    if error is None:
        return None
    problem = Problem.of(error)
    if link is None:
        return problem
    return Problem(
        problem.status,
        problem.code,
        shown_to(user, link, problem.message) or "",
        shown_to(user, link, problem.hint) or "",
    )
