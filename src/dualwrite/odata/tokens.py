"""Opaque, tamper-checked tokens: `$skiptoken` (server paging) and `$deltatoken` (change
tracking). A token is base64url JSON signed with HMAC-SHA256 under the installation's secret;
it carries the last key read (or the change-log position) and a fingerprint of the query it
belongs to, so a token cannot be edited nor replayed against another query."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from dualwrite.odata.errors import bad_request


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "$n" in value:
            return Decimal(value["$n"])
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{body}".encode(), hashlib.sha256).digest()
    return _b64(digest[:18])


def sign(secret: str, purpose: str, payload: dict[str, Any]) -> str:
    data = {
        k: [_jsonable(v) for v in val] if isinstance(val, list) else val
        for k, val in payload.items()
    }
    body = _b64(orjson.dumps(data))
    return f"{body}.{_mac(secret, purpose, body)}"


def verify(secret: str, purpose: str, token: str, option: str) -> dict[str, Any]:
    """The payload of a token this service signed for `purpose`, or a 400 naming `option`."""
    body, _, mac = token.partition(".")
    if not mac or not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        raise bad_request(f"The {option} value is not valid: it was changed or not issued here.")
    try:
        data = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        raise bad_request(f"The {option} value is not valid.") from None
    return {
        k: [_restore(v) for v in val] if isinstance(val, list) else val for k, val in data.items()
    }
