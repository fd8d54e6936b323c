"""Serving the web UI and API, and the one-command demo: `dualwrite serve`, `dualwrite demo`."""

from __future__ import annotations

import shlex
import shutil
import signal
import socket
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.markup import escape
from rich.panel import Panel

from dualwrite.api.app import create_app
from dualwrite.cli._context import Context, current
from dualwrite.cli._output import console
from dualwrite.cli._progress import progress_bars
from dualwrite.control.store import ControlStore
from dualwrite.databases import display_url
from dualwrite.demo import DemoWorld, build_demo_world, demo_settings
from dualwrite.engine.jetstream import JetStream
from dualwrite.engine.ownership import new_worker_id
from dualwrite.engine.worker import Worker, require_shared_store
from dualwrite.errors import ERR
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.installation.tls import TlsFiles, server_certificate
from dualwrite.jobs.runner import JobRunner
from dualwrite.logs import configure
from dualwrite.ops.alerts import AlertMonitor
from dualwrite.ops.health import Supervisor
from dualwrite.settings import Settings

HostOption = Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")]
PortOption = Annotated[int | None, typer.Option(help="Port (default 8000).")]


class LogFormatChoice(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevelChoice(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


LogFormatOption = Annotated[
    LogFormatChoice | None,
    typer.Option(
        "--log-format",
        case_sensitive=False,
        help="Server log on stderr: text, or json (one object a line). Default: "
        "DUALWRITE_LOG_FORMAT or text.",
        show_default=False,
    ),
]
LogLevelOption = Annotated[
    LogLevelChoice | None,
    typer.Option(
        "--log-level",
        case_sensitive=False,
        help="Least severe log records written. Default: DUALWRITE_LOG_LEVEL or warning.",
        show_default=False,
    ),
]


def _logging(
    settings: Settings, log_format: LogFormatChoice | None, log_level: LogLevelChoice | None
) -> Settings:
    """Options win over DUALWRITE_LOG_FORMAT / DUALWRITE_LOG_LEVEL; the log goes to stderr."""
    chosen = settings.model_copy(
        update={
            name: option.value
            for name, option in (("log_format", log_format), ("log_level", log_level))
            if option is not None
        }
    )
    configure(chosen.log_format, chosen.log_level)
    return chosen


def _listen(host: str, port: int) -> socket.socket:
    """Bind before announcing the URL, so a taken port is a DW error rather than a log line."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ERR.INVALID_INPUT.error(field="--host", problem=f"{host}: {exc.strerror}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        problem = f"cannot listen on {host}:{port}: {exc.strerror}"
        raise ERR.INVALID_INPUT.error(field="--port", problem=problem) from None
    return sock


def url_of(host: str, port: int, tls: bool = False) -> str:
    scheme = "https" if tls else "http"
    return f"{scheme}://[{host}]:{port}/" if ":" in host else f"{scheme}://{host}:{port}/"


def _run(
    settings: Settings, sock: socket.socket, worker: bool = True, tls: TlsFiles | None = None
) -> None:
    """Serve on a bound socket (closed at the end), with the sync worker in a thread; over
    HTTPS with `tls`."""
    # log_config=None: uvicorn's server and access logs go through the handler `configure` set.
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,
        log_level=settings.log_level,
        ssl_certfile=str(tls.certificate) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    threads = []
    if worker:
        # The sync worker and the job runner share the process; `dualwrite worker` runs them on
        # their own instead.
        store = ControlStore(settings.control_url)
        for loop in (Supervisor(store).run, JobRunner(store).run, AlertMonitor(store).run):
            threads.append(threading.Thread(target=loop, args=(stop,), daemon=True))
            threads[-1].start()
    host, port = sock.getsockname()[:2]
    url = url_of(host, port, tls is not None)
    console.print(f"Serving on [bold]{url}[/] — press Ctrl+C to stop.", markup=True)
    if tls is not None:
        console.print(f"Self-signed certificate (trust this file): {tls.certificate}")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then raised the signal again
        pass
    finally:
        sock.close()
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    console.print("Stopped.")  # Ctrl+C is a clean stop: exit status 0 (`make demo` too)


NoWorker = Annotated[bool, typer.Option("--no-worker", help="Do not start the sync worker.")]
TlsOption = Annotated[
    bool,
    typer.Option(
        "--tls",
        help="Serve HTTPS with a self-signed certificate for 127.0.0.1, localhost and this "
        "host, made in <data directory>/tls on first use and reused after.",
    ),
]


def serve(
    ctx: typer.Context,
    host: HostOption = None,
    port: PortOption = None,
    no_worker: NoWorker = False,
    tls: TlsOption = False,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
) -> None:
    """Serve the web UI, the REST API (OpenAPI docs at /docs) and the token service with the
    sync worker; over HTTPS with --tls."""
    context = current(ctx)
    context.store().require_initialised()
    settings = _logging(context.settings, log_format, log_level)
    host = host or settings.host
    sock = _listen(host, port or settings.port)
    try:
        files = server_certificate(settings.tls_dir, [host]) if tls else None
    except BaseException:
        sock.close()
        raise
    _run(settings, sock, worker=not no_worker, tls=files)


def worker(
    ctx: typer.Context,
    stream: Annotated[
        str | None,
        typer.Option(
            help="NATS JetStream URL (nats://host:4222): share the maps with the other workers "
            "of this control store (PostgreSQL or MariaDB), each map direction run by one.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="This worker's name among them (default: host and process ID)."),
    ] = None,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run the sync worker alone (the data integration service, and the setup jobs); Ctrl+C
    stops it."""
    context = current(ctx)
    store = context.store()
    _logging(context.settings, log_format, log_level)
    if stream is not None:  # the clear errors now, not in the worker's thread
        name = new_worker_id(name)
        require_shared_store(store, stream)
        JetStream(stream, "check", {}).close()
    stop = threading.Event()
    helpers = [
        threading.Thread(target=loop, args=(stop,), daemon=True)
        for loop in (JobRunner(store).run, AlertMonitor(store).run)
    ]
    for helper in helpers:
        helper.start()
    where = f" sharing the maps over {display_url(stream)}" if stream else ""
    console.print(f"Sync worker running on {store.url}{where} — press Ctrl+C to stop.")
    # SIGTERM (systemd, Kubernetes, kill) stops as Ctrl+C does: after the current pass, leases
    # handed back at once instead of expiring.
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        Supervisor(store, lambda s: Worker(s, stream=stream, name=name)).run(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop.set()
        for helper in helpers:
            helper.join(timeout=10)


def demo(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Folder of the demo, wiped each run (default: <data directory>/demo).",
            show_default=False,
        ),
    ] = None,
    host: HostOption = None,
    port: PortOption = None,
    customers: Annotated[int, typer.Option(min=0, help="F&O customers to generate.")] = 3000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build it, do not serve.")] = False,
    control_store: Annotated[
        str | None,
        typer.Option(
            help="An empty PostgreSQL or MariaDB database for the demo's control store "
            "(default: SQLite in the demo folder), for workers sharing the maps "
            "(`dualwrite worker --stream`).",
            show_default=False,
        ),
    ] = None,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
) -> None:
    """Build a fresh demo world on SQLite (wiping the previous demo) and serve it."""
    settings = demo_settings(current(ctx).settings, control_store)
    settings = _logging(settings, log_format, log_level)
    if home is not None:
        settings = settings.model_copy(update={"home": home.expanduser().resolve()})
    host, port = host or settings.host, port or settings.port
    # Bound first: a taken port should fail before minutes of building, not after.
    sock = None if no_serve else _listen(host, port)
    try:
        world = _build(settings, customers)
        _announce(world, settings, url_of(host, port))
    except BaseException:
        if sock:
            sock.close()
        raise
    if sock:
        _run(settings, sock)


def _build(settings: Settings, customers: int) -> DemoWorld:
    """The demo world, with its admin's token kept in the demo's own data directory."""
    console.print(f"Building a fresh demo world in {settings.home} …")
    with progress_bars() as progress:
        world = build_demo_world(settings, progress, customers=customers)
    demo_context = Context(settings)
    try:
        store = demo_context.store()
        signed = sessions.sign_in(
            store,
            settings,
            world.upn,
            world.password,
            SessionKind.BEARER,
            source=sessions.LOCAL_SOURCE,
        )
        demo_context.save_credentials(signed)
    finally:
        demo_context.close()
    return world


def _announce(world: DemoWorld, settings: Settings, url: str) -> None:
    home_arg = escape(shlex.quote(str(settings.home)))
    lines = [
        f"Sign in at  [bold]{url}[/]",
        f"User        [bold]{world.upn}[/]",
        f"Password    [bold]{world.password}[/]",
        "",
        f"Tenant {world.tenant}; LCS project '{world.project}';",
        f"F&O sandbox '{world.fo_environment}' (West US; USMF, DEMF, GBSI);",
        f"Power Platform '{world.platform_environment}': Dataverse, United States.",
    ]
    console.print(Panel("\n".join(lines), title="dualwrite demo", expand=False), markup=True)
    # Outside the panel, which would wrap or crop a long path.
    command = f"{escape(_program())} --home {home_arg}"
    if settings.database_url:  # the demo's control store is on a server: every command needs it
        url = escape(shlex.quote(display_url(settings.database_url)))
        command = f"DUALWRITE_DATABASE_URL={url} {command}"
    console.print(f"CLI, already signed in:\n  {command} env list")


def _program() -> str:
    """How to call `dualwrite` from here: by name when the shell finds this one (an activated
    virtualenv), else by its path (`make demo` runs it as .venv/bin/dualwrite)."""
    here = Path(sys.executable).parent / "dualwrite"
    found = shutil.which("dualwrite")
    if found and Path(found).resolve() == here.resolve():
        return "dualwrite"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.command()(demo)
