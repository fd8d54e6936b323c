"""The server log: JSON lines with ts, level, logger, message, the call's extras and exc; the
text format keeps the message as it was; real loggers pass their fields as extras."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pydantic
import pytest

from dualwrite import activity
from dualwrite.control.store import ControlStore
from dualwrite.logs import JsonFormatter, TextFormatter, configure
from dualwrite.settings import Settings
from factories import bootstrap


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def _record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    return logging.getLogger("dualwrite.test").makeRecord(
        "dualwrite.test", logging.WARNING, __file__, 1, message, args, None, extra=extra
    )


def test_json_line_carries_time_level_logger_message_and_extras() -> None:
    record = _record(
        "map %s: %d errors",
        "Customers V3 (accounts)",
        3,
        environment="contoso-test",
        map="Customers V3 (accounts)",
        direction="dv_to_fo",
        count=3,
        job_id=7,
        activity_id="a1",
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "WARNING"
    assert parsed["logger"] == "dualwrite.test"
    assert parsed["message"] == "map Customers V3 (accounts): 3 errors"
    assert parsed["ts"].endswith("Z")
    assert datetime.fromisoformat(parsed["ts"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    for key, value in {
        "environment": "contoso-test",
        "map": "Customers V3 (accounts)",
        "direction": "dv_to_fo",
        "count": 3,
        "job_id": 7,
        "activity_id": "a1",
    }.items():
        assert parsed[key] == value
    assert "exc" not in parsed and "args" not in parsed and "msg" not in parsed


def test_json_line_has_the_exception_and_plain_values() -> None:
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed",
            (),
            sys.exc_info(),
            extra={"when": datetime(2025, 1, 31), "keys": {"a": (1, 2)}, "obj": object()},
        )
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed["exc"].startswith("Traceback") and "RuntimeError: boom" in parsed["exc"]
    assert parsed["when"] == "2025-01-31T00:00:00"
    assert parsed["keys"] == {"a": [1, 2]}
    assert parsed["obj"].startswith("<object object")


def test_uvicorn_access_lines_get_their_fields() -> None:
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/health", "1.1", 200),
        None,
    )
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed["message"] == '127.0.0.1:5000 - "GET /api/v1/health HTTP/1.1" 200'
    assert (parsed["method"], parsed["path"], parsed["status"]) == ("GET", "/api/v1/health", 200)


def test_text_line_is_the_message_as_before_without_extras() -> None:
    record = _record("alert of %s: %s", "Accounts", "DW5004: gone", map="Accounts", count=2)
    line = TextFormatter().format(record)
    stamp, level, logger, message = line.split(" ", 3)
    assert stamp.endswith("Z") and (level, logger) == ("WARNING", "dualwrite.test:")
    assert message == "alert of Accounts: DW5004: gone"


def test_configure_sends_real_loggers_with_their_fields_to_stderr(
    store: ControlStore, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        configure("json", "info")
        configure("json", "info")  # again: still one handler, so one line per record
        error = activity.token_exchange_denied(admin, "Applying solutions")
        logging.getLogger("dualwrite.debugging").debug("not at info")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (denied,) = [line for line in lines if line["logger"] == "dualwrite.activity"]
    assert denied["level"] == "WARNING"
    assert denied["user"] == "admin@contoso.onmicrosoft.com"
    assert denied["action"] == "Applying solutions"
    assert denied["activity_id"] == error.details["activity_id"]
    assert denied["session_id"] == error.details["session_id"]
    assert not [line for line in lines if line["logger"] == "dualwrite.debugging"]

    configure("text", "warning")
    logging.getLogger("dualwrite.jobs").warning("job %s failed", 3, extra={"job_id": 3})
    (text,) = capsys.readouterr().err.splitlines()
    assert text.endswith(" WARNING dualwrite.jobs: job 3 failed")


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALWRITE_LOG_FORMAT", "JSON")
    monkeypatch.setenv("DUALWRITE_LOG_LEVEL", "Info")
    settings = Settings()
    assert (settings.log_format, settings.log_level) == ("json", "info")
    monkeypatch.setenv("DUALWRITE_LOG_FORMAT", "xml")
    with pytest.raises(pydantic.ValidationError, match="log_format"):
        Settings()
