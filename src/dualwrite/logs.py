"""The server log of `dualwrite serve`, `dualwrite worker` and `dualwrite demo`: plain text lines
for a terminal, or one JSON object per line for a log collector.

Loggers pass what a line is about as `extra=` (environment, map, direction, job_id, count, …);
the text format keeps the message as it always was, the JSON format adds those fields as keys:

    {"ts": "2025-01-31T09:15:02.123Z", "level": "WARNING", "logger": "dualwrite.alerts",
     "message": "contoso-test / Customers V3 (accounts): Alert: …", "environment": "contoso-test",
     "map": "Customers V3 (accounts)", "count": 5}

uvicorn's own loggers (server and access log) go through the same handler and formatter.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
LEVELS = ("debug", "info", "warning", "error", "critical")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has: anything else on a record came in through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's coloured copy of the message
}
# uvicorn.access passes (client, method, path, HTTP version, status) as the message's arguments.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def _plain(value: Any) -> Any:
    """A value json.dumps takes as it is; anything else becomes its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds: 2025-01-31T09:15:02.123Z."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, the record's extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            out.update(zip(_ACCESS_FIELDS, map(_plain, args), strict=True))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = _plain(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2025-01-31T09:15:02.123Z WARNING dualwrite.alerts: message` — extras stay out of it."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return timestamp(record.created)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the moment (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"log format {log_format!r} is not one of {', '.join(FORMATS)}")


def level_of(name: str) -> int:
    if name.lower() not in LEVELS:
        raise ValueError(f"log level {name!r} is not one of {', '.join(LEVELS)}")
    return logging.getLevelNamesMapping()[name.upper()]


def configure(log_format: LogFormat = "text", level: str = "warning") -> logging.Handler:
    """Send every logger's records (dualwrite's, uvicorn's, libraries') to stderr in one format.
    Calling it again replaces the handler it installed before; returns the handler."""
    handler = _StderrHandler()
    handler.setFormatter(formatter(log_format))
    handler.set_name("dualwrite")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "dualwrite"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_of(level))
    # Alembic tells at INFO how it reads the schema revision, on every health check.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []  # their own handlers would print each line twice
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
    return handler
