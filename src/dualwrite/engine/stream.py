"""The stream between the source stage and the apply stage of live sync.

The source stage hands each batch to a `Stream`; the apply stage takes the batches of a map
direction back in order and confirms each once it committed. In one process the stream is a
hand-over (`InProcess`, the default: no copy, no wait); across workers it is NATS JetStream
(`engine/jetstream.py`), durable, one ordered subject per map direction.

Exactly once holds whatever the stream does: a batch carries the source range it covers, and
the apply stage applies only what lies past the position stored in the target (committed with
the rows, by compare-and-set), so a batch delivered twice, or overlapping one applied before,
writes nothing twice; one that starts past the stored position (a gap) is refused and the
source stage reads again from the stored position.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dualwrite.engine.apply import Direction, source_table
from dualwrite.engine.applystage import Batch
from dualwrite.engine.capture.reader import Change, decode_row, normalize_moment
from dualwrite.engine.syncstate import to_json
from dualwrite.maps.model import TableMap


@dataclass(frozen=True)
class Delivery:
    """A batch taken from the stream; `done()` once the apply stage has committed it (or
    found it applied already), so the stream does not deliver it again."""

    batch: Batch
    done: Callable[[], None]


class Stream(Protocol):
    def send(self, batch: Batch) -> None:
        """Hand a batch of the source stage over; raises when the stream cannot take it."""

    def receive(self, tmap: TableMap, direction: Direction) -> Iterator[Delivery]:
        """The batches of a map direction waiting to be applied, oldest first."""

    def full(self, tmap: TableMap, direction: Direction) -> bool:
        """True while the map direction should send nothing more (back-pressure)."""

    def release(self, tmap: TableMap, direction: Direction) -> None:
        """This process no longer runs the map direction (its lease moved to another worker)."""

    def close(self) -> None: ...


@dataclass
class InProcess:
    """Source and apply stage in one process: a batch goes straight to the apply stage."""

    _waiting: dict[tuple[str, str], deque[Batch]] = field(default_factory=dict)

    def send(self, batch: Batch) -> None:
        self._waiting.setdefault((batch.tmap.name, batch.direction), deque()).append(batch)

    def receive(self, tmap: TableMap, direction: Direction) -> Iterator[Delivery]:
        waiting = self._waiting.get((tmap.name, direction))
        while waiting:
            yield Delivery(waiting.popleft(), _nothing)

    def full(self, tmap: TableMap, direction: Direction) -> bool:
        return False

    def release(self, tmap: TableMap, direction: Direction) -> None:
        # Nothing sent here is lost by dropping it: the position in the target was not moved
        # past it, so the next owner reads those changes from the source again.
        self._waiting.pop((tmap.name, direction), None)

    def close(self) -> None:
        self._waiting.clear()


def _nothing() -> None:
    return None


# --- batches on the wire ---------------------------------------------------------------------


def encode(batch: Batch) -> bytes:
    """A batch as JSON: the range, and each change with its key images and the record as the
    source stage read it (typed values as `syncstate.to_json` writes them)."""
    return json.dumps(
        {
            "map": batch.tmap.name,
            "direction": batch.direction,
            "after": batch.position,
            "upto": batch.upto,
            "reverse": batch.reverse_position,
            "changes": [
                [
                    c.position,
                    c.table,
                    c.op,
                    to_json(c.key),
                    to_json(c.old_key),
                    to_json(c.row),
                    c.captured_at.isoformat(),
                ]
                for c in batch.changes
            ],
        },
        separators=(",", ":"),
    ).encode()


def decode(data: bytes, maps: dict[str, TableMap]) -> Batch:
    """The batch `encode` made, with the values typed by the source table's columns."""
    raw = json.loads(data)
    tmap = maps[raw["map"]]
    direction: Direction = raw["direction"]
    table = source_table(tmap, direction)
    changes = [
        Change(
            position,
            name,
            op,
            decode_row(table, key) or {},
            decode_row(table, old_key),
            decode_row(table, row),
            normalize_moment(captured),
        )
        for position, name, op, key, old_key, row, captured in raw["changes"]
    ]
    return Batch(tmap, direction, raw["after"], raw["upto"], changes, raw["reverse"])


def split(batch: Batch, most: int) -> Sequence[Batch]:
    """Contiguous parts of at most `most` changes each, covering the batch's range: a message
    stays under the stream's size limit however large the batch."""
    if len(batch.changes) <= most:
        return [batch]
    parts, after = [], batch.position
    for start in range(0, len(batch.changes), most):
        chunk = batch.changes[start : start + most]
        last = start + most >= len(batch.changes)
        upto = batch.upto if last else chunk[-1].position
        parts.append(Batch(batch.tmap, batch.direction, after, upto, chunk, batch.reverse_position))
        after = upto
    return parts
