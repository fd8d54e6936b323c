"""Where a map direction stands in its source's change log (see `Cursor`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Cursor:
    """Where a map direction stands in its source's change log. `stored` is the position in the
    target store (what a restart resumes from); `read` may be ahead of it, past entries that
    were all other maps' changes: replaying those after a crash would apply nothing, so they
    are stored only with the map's next change of its own or when `due`, instead of costing a
    target transaction per batch of every map that shares the source."""

    stored: int
    read: int = field(init=False)
    stored_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.store(self.stored)

    def due(self, upto: int) -> bool:
        """Store a run of other maps' changes anyway after a while, so a restart replays little."""
        return upto > self.stored and (
            upto - self.stored >= STORE_SKIPPED_EVERY
            or time.monotonic() - self.stored_at >= STORE_SKIPPED_AFTER_SECONDS
        )

    def store(self, position: int) -> None:
        self.stored = self.read = position
        self.stored_at = time.monotonic()


# A map direction stores a position it reached past other maps' changes only this often.
STORE_SKIPPED_EVERY = 10_000  # positions
STORE_SKIPPED_AFTER_SECONDS = 10.0
