"""Bounds of the integers users pass: IDs, positions, offsets, page sizes, settings.

IDs and positions are 64-bit signed integers on every backend, and SQLite's driver cannot even
send a larger Python int (OverflowError); settings stored in INTEGER columns are 32-bit on
PostgreSQL and MariaDB. A value past its bound is refused as bad input (DW1000) before any SQL.
"""

from __future__ import annotations

from dualwrite.errors import ERR

MAX_BIGINT = 2**63 - 1  # IDs, change-log positions, offsets, byte counts
MAX_INT = 2**31 - 1  # INTEGER columns
MAX_ALERT_WINDOW_MINUTES = 366 * 24 * 60  # a year: further back, `now - window` leaves datetime


def within(field: str, value: int, low: int = 0, high: int = MAX_BIGINT) -> int:
    """`value` when low <= value <= high; otherwise DW1000 naming the field and the range."""
    if not low <= value <= high:
        raise ERR.INVALID_INPUT.error(field=field, problem=f"must be between {low} and {high}")
    return value


def parse_id(field: str, text: str, what: str = "a number") -> int:
    """An ID typed in a URL: ASCII digits only (str.isdigit also takes '²', which int refuses),
    within the 64-bit range (thousands of digits are refused before int() parses them)."""
    if not (text.isascii() and text.isdigit()):
        raise ERR.INVALID_INPUT.error(field=field, problem=f"'{text}' is not {what}")
    digits = text.lstrip("0") or "0"
    return within(field, int(digits) if len(digits) <= len(str(MAX_BIGINT)) else MAX_BIGINT + 1)
