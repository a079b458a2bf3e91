"""`askfirst serve`: the web app under uvicorn, on this machine's loopback by default.

With `--workers N` (N > 1) uvicorn runs N processes that each serve requests; none of them
reconciles. The process that started them does that alone, in a thread: withdrawals and
scheduled refreshes run once, not once per worker, and each worker notices a release another
process promoted within `askfirst.training.serving.SERVED_CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import os
import threading

import typer
from fastapi import FastAPI

from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.settings import Settings, load_settings
from askfirst.store import Store, open_store

# How `serve` tells its worker processes the address it listens on.
SERVED_ON = "ASKFIRST_SERVED_ON"
# No line per request: a request line carries its query string, and a suggestion's query
# string is the member's draft. (It also cost each request about a tenth of its CPU time.)
ACCESS_LOG = False


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="port to listen on"),
    workers: int = typer.Option(
        1, min=1, max=64, help="processes serving requests (reconciling stays in one)"
    ),
) -> None:
    """Serve the web app and the JSON API."""
    # Imported here so that every other command starts without loading the web stack.
    import uvicorn

    from askfirst.web.app import create_app
    from askfirst.web.cookies import LOOPBACK_HOSTS
    from askfirst.web.hosts import WILDCARD_ADDRESSES
    from askfirst.web.reconcile_loop import DEFAULT_INTERVAL_SECONDS

    settings = load_settings()
    # Opening the store migrates it: once, here, before any worker opens it.
    store = open_store(settings)
    if host in WILDCARD_ADDRESSES and not settings.allowed_hosts:
        typer.echo(
            f"note: listening on every address ({host}), but requests are answered only for "
            "loopback names: list the names this server is reached by in "
            "ASKFIRST_ALLOWED_HOSTS (e.g. askfirst.example.com)",
            err=True,
        )
    if host not in LOOPBACK_HOSTS:
        typer.echo(
            "note: off loopback, session cookies are Secure: put a TLS proxy in front "
            "(uvicorn trusts its X-Forwarded-Proto from 127.0.0.1)",
            err=True,
        )
    typer.echo(
        f"askfirst at http://{host}:{port}/ (sign in at /signin; API at /api/v1)"
        + (f"; {workers} worker processes" if workers > 1 else "")
    )
    if workers == 1:
        # Withdrawals reach the models with nobody running a command: reconcile while serving.
        app = create_app(
            settings,
            store,
            SystemClock(),
            reconcile_every=DEFAULT_INTERVAL_SECONDS,
            served_on=host,
        )
        uvicorn.run(
            app,
            host=host,
            port=port,
            proxy_headers=True,
            server_header=False,
            access_log=ACCESS_LOG,
        )
        return
    reconcile_in_background(settings, store, DEFAULT_INTERVAL_SECONDS)
    os.environ[SERVED_ON] = host  # the workers' apps answer for the same address
    uvicorn.run(
        "askfirst.web.serve:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        proxy_headers=True,
        server_header=False,
        access_log=ACCESS_LOG,
    )


def worker_app() -> FastAPI:
    """The app one of several worker processes serves (uvicorn calls this in each of them)."""
    from askfirst.web.app import create_app

    settings = load_settings()
    return create_app(
        settings, open_store(settings), SystemClock(), served_on=os.environ.get(SERVED_ON)
    )


def reconcile_in_background(settings: Settings, store: Store, every: float) -> threading.Thread:
    """Reconcile withdrawals and run scheduled refreshes in a daemon thread of this process."""
    from askfirst.web.context import AppContext
    from askfirst.web.reconcile_loop import keep_reconciling

    context = AppContext(settings, store, SystemClock(), load_purposes(settings))
    thread = threading.Thread(
        target=lambda: asyncio.run(keep_reconciling(context, every)),
        name="askfirst-reconcile",
        daemon=True,
    )
    thread.start()
    return thread
