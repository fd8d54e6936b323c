"""Change capture: triggers append every write to a change log in the writer's transaction."""

from dualwrite.engine.capture.origin import engine_origin
from dualwrite.engine.capture.reader import Change, ChangeReader, decode_row
from dualwrite.engine.capture.schema import changelog, ensure_capture_schema
from dualwrite.engine.capture.triggers import install_capture, installed_tables, uninstall_capture

__all__ = [
    "Change",
    "ChangeReader",
    "changelog",
    "decode_row",
    "engine_origin",
    "ensure_capture_schema",
    "install_capture",
    "installed_tables",
    "uninstall_capture",
]
