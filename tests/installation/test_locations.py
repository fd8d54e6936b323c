"""A data store location's canonical identity: every spelling of one database is one identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualwrite.errors import DualWriteError
from dualwrite.stores.locations import canonical_server, is_allowed, locate


def test_sqlite_spellings_of_one_file_are_one_location(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    spellings = [
        f"sqlite:///{tmp_path}/real/fo.db",
        f"sqlite:///{tmp_path}//real//fo.db",
        f"sqlite:///{tmp_path}/./real/./fo.db",
        f"sqlite:///{tmp_path}/nowhere/../real/fo.db",
        f"sqlite:///{tmp_path}/alias/fo.db",
    ]
    found = {locate(url).identity for url in spellings}
    assert found == {f"sqlite:{tmp_path.resolve()}/real/fo.db"}
    # We connect to the file the identity names, not to the spelling given.
    assert locate(spellings[-1]).url == f"sqlite:///{tmp_path.resolve()}/real/fo.db"


def test_relative_sqlite_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert locate("sqlite:///fo.db").identity == f"sqlite:{tmp_path.resolve()}/fo.db"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:5432/sales",
        "postgresql://postgres@localhost/sales",
        "postgres://other:secret@[::1]:5432/sales",
        "postgresql+psycopg://postgres@127.0.0.2/sales?sslmode=disable",
        "postgresql+psycopg://postgres@LOCALHOST.:5432/sales",
    ],
)
def test_server_spellings_of_one_database_are_one_location(url: str) -> None:
    assert locate(url).identity == "postgresql://loopback:5432/sales"


def test_different_databases_ports_and_kinds_are_different_locations() -> None:
    identities = {
        locate(u).identity
        for u in [
            "postgresql://p@127.0.0.1/sales",
            "postgresql://p@127.0.0.1/Sales",
            "postgresql://p@127.0.0.1:5433/sales",
            "mysql://r@127.0.0.1/sales",
            "mysql://r@10.0.0.5/sales",
        ]
    }
    assert len(identities) == 5


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://p@127.0.0.1/sales?host=/tmp",
        "postgresql://p@127.0.0.1/sales?options=-csearch_path%3Dother",
        "mysql://r@127.0.0.1/sales?unix_socket=/run/mysqld/other.sock",
    ],
)
def test_options_that_could_point_elsewhere_are_refused(url: str) -> None:
    with pytest.raises(DualWriteError) as err:
        locate(url)
    assert err.value.code == "DW2001"
    assert "not allowed in a data store URL" in err.value.message


def test_sqlite_uri_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DualWriteError) as err:
        locate(f"sqlite:///{tmp_path}/fo.db?mode=ro")
    assert err.value.code == "DW2001"


def test_allow_list(tmp_path: Path) -> None:
    inside = locate(f"sqlite:///{tmp_path}/stores/x/fo.db")
    escape = locate(f"sqlite:///{tmp_path}/stores/../secrets/fo.db")
    assert is_allowed(inside, [tmp_path / "stores"], [])
    assert not is_allowed(escape, [tmp_path / "stores"], [])
    server = locate("postgresql://p@localhost/sales")
    assert is_allowed(server, [], ["127.0.0.1:5432"])
    assert not is_allowed(server, [], ["127.0.0.1:5433", "10.0.0.5:5432"])
    assert canonical_server("db.example.com") == "db.example.com:5432"
    with pytest.raises(ValueError, match="host:port"):
        canonical_server("db:port")
