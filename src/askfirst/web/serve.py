"""`askfirst serve`: the web app under uvicorn, on this machine's loopback by default."""

from __future__ import annotations

import typer

from askfirst.clock import SystemClock
from askfirst.settings import load_settings
from askfirst.store import open_store


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="port to listen on"),
) -> None:
    """Serve the web app and the JSON API."""
    # Imported here so that every other command starts without loading the web stack.
    import uvicorn

    from askfirst.web.app import create_app
    from askfirst.web.cookies import LOOPBACK_HOSTS
    from askfirst.web.hosts import WILDCARD_ADDRESSES
    from askfirst.web.reconcile_loop import DEFAULT_INTERVAL_SECONDS

    settings = load_settings()
    # Withdrawals reach the models with nobody running a command: reconcile while serving.
    store = open_store(settings)
    app = create_app(
        settings, store, SystemClock(), reconcile_every=DEFAULT_INTERVAL_SECONDS, served_on=host
    )
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
    typer.echo(f"askfirst at http://{host}:{port}/ (sign in at /signin; API at /api/v1)")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, server_header=False)
