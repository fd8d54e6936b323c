"""`$batch` bodies: multipart/mixed requests in (LF or CRLF line endings, change sets nested
with their own boundary) and multipart/mixed responses out (CRLF, as OData requires)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus

from dualwrite.odata.errors import bad_request

_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.I)


@dataclass(frozen=True)
class PartRequest:
    method: str
    url: str
    headers: dict[str, str]  # lower-case names
    prefer: tuple[str, ...]
    body: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    requests: list[PartRequest] = field(default_factory=list)


def boundary_of(content_type: str | None) -> str:
    if not content_type or not content_type.lower().startswith("multipart/mixed"):
        raise bad_request(
            f"A $batch request needs Content-Type multipart/mixed with a boundary, not "
            f"'{content_type or ''}'."
        )
    match = _BOUNDARY.search(content_type)
    if not match:
        raise bad_request("The $batch Content-Type has no boundary.")
    return match.group(1).strip()


def _split_parts(body: bytes, boundary: str) -> list[bytes]:
    """The parts between `--boundary` lines (LF or CRLF), up to the closing `--boundary--`."""
    text = b"\n" + body.replace(b"\r\n", b"\n")
    pieces = text.split(b"\n--" + boundary.encode())
    parts: list[bytes] = []
    for piece in pieces[1:]:  # pieces[0] is the preamble
        if piece.startswith(b"--"):
            return parts
        parts.append(piece.split(b"\n", 1)[1] if b"\n" in piece else b"")
    raise bad_request(f"The $batch body does not end with the closing boundary '--{boundary}--'.")


def _headers(block: bytes) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    prefer: list[str] = []
    for line in block.decode("utf-8", "replace").split("\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise bad_request(f"The $batch part has a malformed header line '{line.strip()}'.")
        key = name.strip().lower()
        if key == "prefer":
            prefer.append(value.strip())
        headers[key] = value.strip()
    return headers, prefer


def _head_and_body(part: bytes) -> tuple[bytes, bytes]:
    head, sep, rest = part.partition(b"\n\n")
    if not sep:
        return part, b""
    return head, rest


def _request(part: bytes, content_id: str | None) -> PartRequest:
    _mime_headers, inner = _head_and_body(part)
    head, body = _head_and_body(inner.lstrip(b"\n"))
    lines = head.decode("utf-8", "replace").split("\n")
    words = lines[0].split()
    if len(words) < 2:
        raise bad_request(f"The $batch part's request line '{lines[0].strip()}' is malformed.")
    headers, prefer = _headers("\n".join(lines[1:]).encode())
    body = body[:-1] if body.endswith(b"\n") else body
    return PartRequest(words[0].upper(), words[1], headers, tuple(prefer), body, content_id)


def parse_batch(body: bytes, content_type: str | None) -> list[PartRequest | ChangeSet]:
    out: list[PartRequest | ChangeSet] = []
    for part in _split_parts(body, boundary_of(content_type)):
        mime, _rest = _head_and_body(part)
        headers, _prefer = _headers(mime)
        kind = headers.get("content-type", "")
        if kind.lower().startswith("multipart/mixed"):
            inner = _head_and_body(part)[1]
            changes = ChangeSet()
            for sub in _split_parts(inner, boundary_of(kind)):
                sub_headers, _ = _headers(_head_and_body(sub)[0])
                changes.requests.append(_request(sub, sub_headers.get("content-id")))
            out.append(changes)
        elif kind.lower().startswith("application/http"):
            out.append(_request(part, headers.get("content-id")))
        else:
            raise bad_request(f"A $batch part has the content type '{kind}': use application/http.")
    return out


@dataclass
class PartResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


def _http_part(response: PartResponse) -> bytes:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if response.content_id:
        lines.append(f"Content-ID: {response.content_id}")
    phrase = HTTPStatus(response.status).phrase
    lines += ["", f"HTTP/1.1 {response.status} {phrase}"]
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + response.body


def render_batch(items: list[PartResponse | list[PartResponse]]) -> tuple[bytes, str]:
    """The response body and its Content-Type (with the boundary)."""
    boundary = f"batchresponse_{uuid.uuid4()}"
    chunks = []
    for item in items:
        if isinstance(item, list):
            inner = f"changesetresponse_{uuid.uuid4()}"
            body = b"".join(f"--{inner}\r\n".encode() + _http_part(r) + b"\r\n" for r in item)
            body += f"--{inner}--\r\n".encode()
            head = f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode()
            chunks.append(f"--{boundary}\r\n".encode() + head + body)
        else:
            chunks.append(f"--{boundary}\r\n".encode() + _http_part(item) + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"
