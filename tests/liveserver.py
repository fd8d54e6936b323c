"""A real server for tests that talk HTTP: uvicorn on a loopback port in a thread, over
HTTPS when given a certificate (as `dualwrite serve --tls` serves)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.installation.tls import TlsFiles
from dualwrite.settings import Settings


@contextmanager
def serving(settings: Settings, store: ControlStore, tls: TlsFiles | None = None) -> Iterator[str]:
    """The server's base URL (http://127.0.0.1:<port>, https with `tls`) while it runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, store),
        log_level="warning",
        ssl_certfile=str(tls.certificate) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):  # bounded: the socket is bound already, start-up takes a moment
        if server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
