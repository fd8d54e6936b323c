"""NATS JetStream as the stream between the source and apply stages (`dualwrite worker
--stream nats://…`): one durable stream, one subject and one durable pull consumer per link,
map and direction, so a map direction's batches are delivered in order, kept across restarts,
and handed to whichever worker owns the map direction next.

nats-py is asynchronous and the engine is not: the client runs on an event loop in a thread
of its own, and this module's methods wait for it, each with a timeout.

Limits (`STREAM_*`): a message is at most 256 changes (`split`); the stream keeps a subject's
batches until they are applied (work-queue retention) up to 1 GB and 7 days in all; past that
it refuses new batches and the source stage waits, with the changes safe in the source's
change log. Back-pressure: a map direction sends at most `MAX_AHEAD` batches ahead of the
apply stage, so a slow target grows neither the stream nor memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StreamConfig
from nats.js.errors import NotFoundError

from dualwrite.engine.apply import Direction
from dualwrite.engine.applystage import Batch
from dualwrite.engine.stream import Delivery, decode, encode, split
from dualwrite.errors import ERR
from dualwrite.maps.model import TableMap

T = TypeVar("T")

STREAM = "DUALWRITE"
SUBJECTS = "dualwrite.>"
STREAM_MAX_BYTES = 1024**3
STREAM_MAX_AGE_SECONDS = 7 * 24 * 3600
CHANGES_PER_MESSAGE = 256
MAX_AHEAD = 32  # batches a map direction may send before the apply stage took them
WAIT_SECONDS = 5.0
# A batch taken and neither applied nor confirmed (its worker was killed) is delivered again
# after this; a batch of at most 256 changes applies well within it.
ACK_WAIT_SECONDS = 10
FETCH_SECONDS = 0.05  # how long a fetch waits for a batch known to be there
# How often a map direction's owner asks the server for batches it did not send (a previous
# owner's, one delivered again after its worker died), besides whenever nothing of its own waits.
CHECK_SECONDS = 1.0


def _slug(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class JetStream:
    """A connection to NATS JetStream for one link (`link_key` names it in the subjects)."""

    url: str
    link_key: str
    maps: dict[str, TableMap]
    _loop: asyncio.AbstractEventLoop = field(init=False)
    _thread: threading.Thread = field(init=False)
    _nc: Any = field(init=False, default=None)
    _js: Any = field(init=False, default=None)
    _subscriptions: dict[str, Any] = field(init=False, default_factory=dict)
    _ahead: dict[str, int] = field(init=False, default_factory=dict)
    _checked: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        try:
            self._nc = self._run(
                nats.connect(
                    self.url,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,  # keep trying: changes wait in the source meanwhile
                    reconnect_time_wait=0.5,
                    allow_reconnect=True,
                ),
                timeout=5,
            )
        except Exception as error:
            self._stop_loop()
            raise ERR.STREAM_UNREACHABLE.error(url=self.url, problem=_reason(error)) from None
        self._js = self._nc.jetstream()
        self._run(self._ensure_stream())

    # --- the event loop's thread ---

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float = WAIT_SECONDS) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            if future.done():  # the coroutine's own timeout (nats' is a TimeoutError too)
                raise
            future.cancel()
            raise ERR.STREAM_UNREACHABLE.error(
                url=self.url, problem=f"no answer within {timeout:g} s"
            ) from None

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _ensure_stream(self) -> None:
        config = StreamConfig(
            name=STREAM,
            subjects=[SUBJECTS],
            retention=RetentionPolicy.WORK_QUEUE,
            max_bytes=STREAM_MAX_BYTES,
            max_age=STREAM_MAX_AGE_SECONDS,
        )
        try:
            await self._js.stream_info(STREAM)
        except NotFoundError:
            await self._js.add_stream(config)

    # --- subjects ---

    def subject(self, map_name: str, direction: str) -> str:
        return f"dualwrite.{self.link_key}.{_slug(map_name)}.{direction}"

    def _durable(self, subject: str) -> str:
        return subject.replace(".", "_")

    # --- the Stream protocol ---

    def send(self, batch: Batch) -> None:
        subject = self.subject(batch.tmap.name, batch.direction)
        for part in split(batch, CHANGES_PER_MESSAGE):
            try:
                self._run(self._js.publish(subject, encode(part), stream=STREAM, timeout=2))
            except Exception as error:
                if getattr(error, "code", None) == ERR.STREAM_UNREACHABLE.code:
                    raise
                raise ERR.STREAM_UNREACHABLE.error(url=self.url, problem=_reason(error)) from None
            self._ahead[subject] = self._ahead.get(subject, 0) + 1

    def full(self, tmap: TableMap, direction: Direction) -> bool:
        """True while the map direction has `MAX_AHEAD` batches not yet applied. What this
        process counts is checked with the server before it holds the source stage back:
        batches it sent may have been applied by another worker (a lease that moved)."""
        subject = self.subject(tmap.name, direction)
        if self._ahead.get(subject, 0) < MAX_AHEAD:
            return False
        waiting = sum(self.waiting(tmap, direction).values())
        self._ahead[subject] = waiting
        return waiting >= MAX_AHEAD

    def waiting(self, tmap: TableMap, direction: Direction) -> dict[str, int]:
        """The map direction's batches in the stream: not delivered yet, and delivered but not
        confirmed (for the workers view and diagnostics)."""
        try:
            info = self._run(
                self._js.consumer_info(STREAM, self._durable(self.subject(tmap.name, direction)))
            )
        except NotFoundError:
            return {"pending": 0, "unconfirmed": 0}
        return {
            "pending": int(info.num_pending or 0),
            "unconfirmed": int(info.num_ack_pending or 0),
        }

    def release(self, tmap: TableMap, direction: Direction) -> None:
        """Another worker runs the map direction now: what this one sent is the new owner's to
        apply, so it no longer counts against this process's back-pressure."""
        subject = self.subject(tmap.name, direction)
        self._ahead.pop(subject, None)
        self._checked.pop(subject, None)  # taken on again: ask the server at once

    def receive(self, tmap: TableMap, direction: Direction) -> Iterator[Delivery]:
        """The batches waiting, as many as are known to wait: those this process sent and not
        yet saw applied, and — asked of the server when the direction is taken on and every
        `CHECK_SECONDS` after — those of earlier owners or delivered again. A fetch is made
        only for batches known to be there (one with nothing to fetch waits out its timeout)."""
        subject = self.subject(tmap.name, direction)
        subscription = self._subscription(subject)
        expected = self._ahead.get(subject, 0)
        now = time.monotonic()
        if now - self._checked.get(subject, -CHECK_SECONDS) >= CHECK_SECONDS:
            self._checked[subject] = now
            expected = max(expected, self.waiting(tmap, direction)["pending"])
        while expected > 0:  # bounded: each round takes at least one batch or returns
            try:
                messages = self._run(
                    subscription.fetch(min(8, expected), timeout=FETCH_SECONDS),
                    timeout=WAIT_SECONDS,
                )
            except Exception as error:
                if getattr(error, "code", None) == ERR.STREAM_UNREACHABLE.code:
                    raise
                if isinstance(error, NatsTimeout | asyncio.TimeoutError):
                    return  # fewer than expected: taken by another worker meanwhile
                raise ERR.STREAM_UNREACHABLE.error(url=self.url, problem=_reason(error)) from None
            if not messages:
                return
            for message in messages:
                expected -= 1
                yield Delivery(decode(message.data, self.maps), self._acker(subject, message))

    def _acker(self, subject: str, message: Any) -> Any:
        def done() -> None:
            self._run(message.ack())
            self._ahead[subject] = max(0, self._ahead.get(subject, 0) - 1)

        return done

    def _subscription(self, subject: str) -> Any:
        if subject not in self._subscriptions:
            config = ConsumerConfig(
                durable_name=self._durable(subject),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=ACK_WAIT_SECONDS,
                max_ack_pending=MAX_AHEAD,
                filter_subject=subject,
            )
            self._subscriptions[subject] = self._run(
                self._js.pull_subscribe(
                    subject, durable=self._durable(subject), stream=STREAM, config=config
                )
            )
        return self._subscriptions[subject]

    def forget(self) -> None:
        """Remove what this link left in JetStream (its maps' consumers and unapplied batches):
        for a link that is gone, and for tests."""
        for name in self.maps:
            for direction in ("fo_to_dv", "dv_to_fo"):
                subject = self.subject(name, direction)
                with suppress(NotFoundError):
                    self._run(self._js.delete_consumer(STREAM, self._durable(subject)))
                self._run(self._js.purge_stream(STREAM, subject=subject))
        self._subscriptions.clear()
        self._ahead.clear()
        self._checked.clear()

    def close(self) -> None:
        with suppress(Exception):  # closing a connection that may be gone already
            self._run(self._nc.close(), timeout=5)
        self._stop_loop()


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def link_key(fo_url: str, dv_url: str) -> str:
    """Subjects name a link by its two stores, so every worker finds the same subjects."""
    return _slug(f"{fo_url}|{dv_url}")
