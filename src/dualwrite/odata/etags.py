"""Weak ETags and the preconditions that compare them.

Dataverse: from the row version — `versionnumber` where the schema has one, else `modifiedon`
in microseconds (our reference schema has no versionnumber; every write of ours stamps
modifiedon). Finance and operations: a hash of the row's public values, so any change — also
a plain SQL one that leaves modifieddatetime alone — gives a new ETag."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from dualwrite.odata.errors import NOT_FOUND, VERSION_MISMATCH, ODataError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # SQLite and MariaDB hand back UTC without a zone
_MICROSECOND = timedelta(microseconds=1)


def version_etag(version: Any) -> str:
    """W/"<version>"; a modified-on time counts in microseconds since 1970 (UTC)."""
    if isinstance(version, datetime):
        version = (version - (_EPOCH if version.tzinfo else _NAIVE_EPOCH)) // _MICROSECOND
    return f'W/"{version}"'


def _default(value: Any) -> Any:
    return str(value)


def hash_etag(values: Sequence[Any]) -> str:
    digest = hashlib.sha1(  # noqa: S324 - a change detector, not a security boundary
        orjson.dumps(list(values), default=_default, option=orjson.OPT_NAIVE_UTC)
    ).hexdigest()
    return f'W/"{digest[:20]}"'


EtagOf = Callable[[dict[str, Any]], str]  # a row (column → value) → its ETag


def matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match header value names `etag` (or is `*`)."""
    wanted = [v.strip() for v in header.split(",")]
    bare = etag[2:] if etag.startswith("W/") else etag
    return any(v in ("*", etag, bare) or v.removeprefix("W/") == bare for v in wanted)


def check_preconditions(
    if_match: str | None,
    if_none_match: str | None,
    current_etag: str | None,
    *,
    entity: str,
    key_text: str,
) -> None:
    """Raise what Dataverse answers when a write's preconditions fail; `current_etag` is None
    when the row does not exist. `If-None-Match: null` (sent by some clients) means nothing."""
    if if_none_match is not None and if_none_match.strip().lower() == "null":
        if_none_match = None
    if if_match is not None:
        if current_etag is None:
            raise ODataError(404, f"{entity} With Id = {key_text} Does Not Exist", NOT_FOUND)
        if not matches(if_match, current_etag):
            raise ODataError(
                412,
                "The version of the existing record doesn't match the RowVersion property "
                "provided.",
                VERSION_MISMATCH,
            )
    if if_none_match is not None and current_etag is not None:
        if if_none_match.strip() == "*":
            raise ODataError(412, "A record with matching key values already exists.", "0x80040237")
        if matches(if_none_match, current_etag):
            raise ODataError(412, "The record has not changed since the given ETag.", "0x80060882")
