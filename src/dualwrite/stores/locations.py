"""Where a data store lives, as one canonical identity per database, and whether the
installation allows a location at all.

Two URLs that reach the same database must have the same identity, whatever their spelling:
`sqlite:////a//b/./c/../fo.db` and `sqlite:////a/b/fo.db` (and a symlink to it) are one file;
`localhost`, `127.0.0.1` and `[::1]` with the default port are one server. Ownership of data
stores (one environment each) is decided on this identity, never on the URL string.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from dualwrite.databases import display_url, parse_url
from dualwrite.errors import ERR

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
# Query parameters that change how we talk to a server, never which server or database: a
# `host`, `unix_socket` or `options=-c search_path=…` parameter could point elsewhere.
_SAFE_QUERY = frozenset({"sslmode", "connect_timeout", "application_name", "charset"})
_LOOPBACK = "loopback"


@dataclass(frozen=True)
class Location:
    """A data store URL resolved: `url` is what we connect to (for SQLite, the real path),
    `identity` what ownership is decided on, `key` its fixed-length hash."""

    url: str
    identity: str
    sqlite_path: Path | None  # the real path of a SQLite file, None for a server
    server: str | None  # "host:port" of a server (host canonical), None for SQLite

    @property
    def key(self) -> str:
        return hashlib.sha256(self.identity.encode()).hexdigest()

    @property
    def display(self) -> str:
        return display_url(self.url)


def _family(url: URL) -> str:
    return "postgresql" if url.drivername.startswith("postgresql") else "mysql"


def canonical_host(host: str) -> str:
    """Loopback in any spelling is one host; IP literals in one form; names lower-cased."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return _LOOPBACK
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return _LOOPBACK if address.is_loopback else str(address)


def _sqlite_location(url: URL) -> Location:
    assert url.database  # noqa: S101 - parse_url guarantees it
    if url.query:
        raise ERR.BAD_DATABASE_URL.error(
            url=display_url(url),
            problem=f"a SQLite data store takes no options ({', '.join(sorted(url.query))})",
        )
    # SQLite resolves a relative path against the process's directory; so do we, then
    # collapse `//`, `/./`, `/../` and follow symlinks of every part that exists.
    real = Path(os.path.realpath(Path(url.database).expanduser().absolute()))
    return Location(
        url=url.set(database=str(real)).render_as_string(hide_password=False),
        identity=f"sqlite:{real}",
        sqlite_path=real,
        server=None,
    )


def _server_location(url: URL) -> Location:
    if unsafe := sorted(set(url.query) - _SAFE_QUERY):
        raise ERR.BAD_DATABASE_URL.error(
            url=display_url(url),
            problem=f"the option(s) {', '.join(unsafe)} are not allowed in a data store URL "
            f"(allowed: {', '.join(sorted(_SAFE_QUERY))})",
        )
    family = _family(url)
    host = canonical_host(url.host or "")
    port = url.port or _DEFAULT_PORTS[family]
    return Location(
        url=url.render_as_string(hide_password=False),
        identity=f"{family}://{host}:{port}/{url.database}",
        sqlite_path=None,
        server=f"{host}:{port}",
    )


def locate(raw: str | URL) -> Location:
    """Validate a data store URL (DW2001) and resolve it to its canonical location."""
    url = parse_url(raw) if isinstance(raw, str) else raw
    return _sqlite_location(url) if url.drivername == "sqlite" else _server_location(url)


def canonical_server(entry: str) -> str:
    """An allow-list entry `host:port` (or `host`, default PostgreSQL port) made canonical."""
    text = entry.strip()
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:  # no port, or an IPv6 literal without one
        host, port = text, "5432"
    if not port.isdigit():
        raise ValueError(f"'{entry}' is not host:port")
    return f"{canonical_host(host)}:{int(port)}"


def is_allowed(location: Location, directories: Iterable[Path], servers: Iterable[str]) -> bool:
    """True when the location is under an allowed directory or on an allowed server."""
    if location.sqlite_path is not None:
        return any(
            location.sqlite_path.is_relative_to(os.path.realpath(folder)) for folder in directories
        )
    return location.server in {canonical_server(s) for s in servers}
