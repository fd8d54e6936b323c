"""Engines of the data stores the environment APIs serve, one per store URL, kept for the
life of the app (a request must not pay for a new pool), disposed at shutdown."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from dualwrite.databases import make_engine

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_all() -> None:
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()
