"""What can go wrong in an OData request, independent of which platform renders it.

Each error carries the HTTP status, the message the client sees and Dataverse's error code
(hex HRESULT); the finance and operations renderer uses its own shape and ignores the code."""

from __future__ import annotations

# Dataverse's codes for the errors we raise (Web API error reference).
UNKNOWN_SEGMENT = "0x8006088a"  # Resource not found for the segment '…'.
GENERIC = "0x0"  # query parsing, unknown property, bad literal
SKIP_UNSUPPORTED = "0x80060888"  # a query option Dataverse does not support
VALIDATION = "0x80044331"  # a value the column refuses (length, type, required)
DUPLICATE = "0x80040237"  # A record with matching key values already exists.
NOT_FOUND = "0x80040217"  # <entity> With Id = … Does Not Exist
VERSION_MISMATCH = "0x80060882"  # If-Match ETag does not match the record's
PRIVILEGE = "0x80040220"  # Principal user … is missing prv… privilege
UNAUTHENTICATED = "0x80072560"  # no or bad bearer token
LIMIT = "0x80040203"  # too many records in one request, page size out of range
BAD_BODY = "0x80048d19"  # the body is not the JSON an operation needs
UNEXPECTED = "0x80040216"  # an unexpected error: logged, nothing written
ISV_ABORTED = "0x80040265"  # code run with the write refused it (here: synchronous dual-write)


class ODataError(Exception):
    """An error answer: status, message, Dataverse code; `target` names the property or part."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = GENERIC,
        *,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.target = target
        self.headers = headers or {}  # e.g. a 401's WWW-Authenticate challenge

    def __repr__(self) -> str:
        return f"ODataError({self.status}, {self.message!r}, {self.code})"


def bad_request(message: str, code: str = GENERIC, target: str | None = None) -> ODataError:
    return ODataError(400, message, code, target=target)


def not_found_segment(segment: str) -> ODataError:
    return ODataError(404, f"Resource not found for the segment '{segment}'.", UNKNOWN_SEGMENT)


def unknown_property(name: str, type_name: str) -> ODataError:
    return ODataError(
        400, f"Could not find a property named '{name}' on type '{type_name}'.", target=name
    )
