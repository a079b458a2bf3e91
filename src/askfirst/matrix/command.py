"""`askfirst matrix connect | sync | status`: a Matrix homeserver as a live source.

The Matrix client (matrix-nio, aiohttp) is imported by these commands alone, so that every
other command starts without it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from askfirst.clock import SystemClock
from askfirst.consent.purposes import load_purposes
from askfirst.settings import load_settings
from askfirst.store import Store, open_store

matrix_app = typer.Typer(help="A Matrix homeserver: the bot account, its sync and its status.")
WORKSPACE = typer.Option("main", "--workspace", help="The workspace the homeserver's rooms go to.")


@matrix_app.command("connect")
def connect_command(
    homeserver: str = typer.Option(..., help="The homeserver's URL, e.g. https://matrix.example"),
    user: str = typer.Option(..., help="The bot account's user id, e.g. @askfirst:example"),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        envvar="ASKFIRST_MATRIX_PASSWORD",
        help="The bot's password; used once to log in, never stored.",
    ),
    workspace: str = WORKSPACE,
) -> None:
    """Log the bot account in and keep its access token for the workspace."""
    from askfirst.matrix.connection import MatrixError, connect

    try:
        with _store() as store:
            row = asyncio.run(
                connect(
                    store,
                    homeserver=homeserver,
                    user_id=user,
                    password=password,
                    workspace=workspace,
                    clock=SystemClock(),
                )
            )
    except MatrixError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"connected {row.user_id} on {homeserver} (device {row.device_id}) to workspace "
        f"{workspace}; run `askfirst matrix sync --workspace {workspace}` to start syncing"
    )


@matrix_app.command("sync")
def sync_command(workspace: str = WORKSPACE) -> None:
    """Sync the bot's rooms into the store until stopped (Ctrl-C or SIGTERM)."""
    from askfirst.matrix.connection import MatrixError, find_connection
    from askfirst.matrix.sync import MatrixSync

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    purposes = load_purposes(load_settings())
    with _store() as store:
        try:
            with store.reading() as session:
                workspace_id = find_connection(session, workspace).workspace_id
        except MatrixError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
        sync = MatrixSync(store, workspace_id, clock=SystemClock(), purposes=purposes)

        async def until_stopped() -> None:
            loop = asyncio.get_running_loop()
            for each in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(each, sync.stop)
            await sync.run()

        typer.echo(f"syncing workspace {workspace}; stop with Ctrl-C")
        asyncio.run(until_stopped())


@matrix_app.command("status")
def status_command(workspace: str = WORKSPACE) -> None:
    """When the last sync committed, and any failures since."""
    from askfirst.matrix.connection import MatrixError, connection_status

    try:
        with _store() as store:
            status = connection_status(store, workspace)
    except MatrixError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    for line in status.lines():
        typer.echo(line)


@contextmanager
def _store() -> Iterator[Store]:
    """The configured store, its connections closed when the command is done."""
    store = open_store(load_settings())
    try:
        yield store
    finally:
        store.engine.dispose()
