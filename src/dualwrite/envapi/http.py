"""Requests and responses of the environment APIs as plain values, so one handler serves a
request from the wire and a request inside a `$batch` alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from dualwrite.odata.errors import BAD_BODY, ODataError
from dualwrite.odata.query import Preferences, parse_prefer
from dualwrite.odata.values import dumps

JSON = "application/json; odata.metadata=minimal"
ODATA_VERSION = {"OData-Version": "4.0"}
# Every printable ASCII character stays as it is; only what HTTP headers cannot carry is
# percent-encoded, the way an IRI becomes a URI (names and keys may be any Unicode).
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F))


def header_value(value: str) -> str:
    """A header value clients can decode: non-ASCII (an environment name, a key in an
    entity ID) percent-encoded as UTF-8, control characters too."""
    return value if value.isascii() and value.isprintable() else quote(value, safe=_HEADER_SAFE)


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # after the service root, still percent-encoded: accounts(…)/…
    query: str  # raw query string
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    prefer_headers: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def prefer(self) -> Preferences:
        return parse_prefer(self.prefer_headers)

    def json(self) -> Any:
        """The body as JSON (an object), or a 400 saying what is wrong with it."""
        content_type = (self.header("content-type") or "application/json").split(";")[0].strip()
        if content_type.lower() not in ("application/json", "text/plain", ""):
            raise ODataError(
                415,
                f"The content type '{content_type}' is not supported: send application/json.",
                BAD_BODY,
            )
        if not self.body.strip():
            raise ODataError(400, "The request body is empty: send a JSON object.", BAD_BODY)
        try:
            data = orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise ODataError(
                400,
                f"The request body is not valid JSON: {exc.msg} at position {exc.pos}.",
                BAD_BODY,
            ) from None
        if not isinstance(data, dict):
            raise ODataError(400, "The request body must be a JSON object.", BAD_BODY)
        return data


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = JSON

    @classmethod
    def json(cls, status: int, document: Any, **headers: str) -> ApiResponse:
        return cls(status, dumps(document), dict(headers))

    @classmethod
    def empty(cls, status: int = 204, **headers: str) -> ApiResponse:
        return cls(status, b"", dict(headers), None)

    def all_headers(self) -> dict[str, str]:
        out = {
            name: header_value(value) for name, value in {**ODATA_VERSION, **self.headers}.items()
        }
        if self.media_type is not None and self.body:
            out["Content-Type"] = self.media_type
        return out


@dataclass
class Planned:
    """A write request turned into operations for `write_rows`, and how to answer once they
    are written (`written` holds this request's rows only). `location` is the entity's path
    (accounts(<guid>)) a `$batch` `$n` reference stands for."""

    operations: list[Any]
    respond: Any  # Callable[[list[Written]], ApiResponse]
    location: str | None = None
