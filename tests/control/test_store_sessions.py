"""Units of work on the SQLite control store: writers take the write lock up front and wait for
each other; a reading unit (the sync worker's look at what to run, many times a second) neither
waits for a writer nor holds one up."""

from __future__ import annotations

from sqlalchemy import func, select, update

from dualwrite.control.models import User
from dualwrite.control.store import ControlStore
from factories import bootstrap


def test_reading_goes_ahead_while_a_writer_holds_the_lock(store: ControlStore) -> None:
    with store.session() as session:
        bootstrap(session)
    with store.session() as writer:  # holds SQLite's write lock until the block ends
        writer.execute(update(User).values(display_name="Renamed, not committed yet"))
        with store.reading() as reader:  # would wait, then fail "database is locked"
            names = reader.scalars(select(User.display_name)).all()
            assert names and "Renamed, not committed yet" not in names
    with store.reading() as reader:
        assert reader.scalar(select(func.count()).select_from(User)) == len(names)
        assert reader.scalars(select(User.display_name)).all() == ["Renamed, not committed yet"]
