"""Running table maps between two data stores: `Link` brings the stages together — live sync
(source stage → apply stage), initial sync, the error log and the queues of paused maps."""

from __future__ import annotations

from dualwrite.engine.initial import InitialSync
from dualwrite.engine.linkcore import BatchResult, Master, Progress, directions
from dualwrite.engine.live import LiveSync
from dualwrite.engine.queues import Queues
from dualwrite.engine.retries import ErrorLog

__all__ = ["BatchResult", "Link", "Master", "Progress", "directions"]


class Link(LiveSync, InitialSync, ErrorLog, Queues):
    """Two data stores, the legal entities synced between them, and the published maps."""
