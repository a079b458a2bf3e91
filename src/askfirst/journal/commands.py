"""`askfirst journal ...`: the journal's commands for admins."""

from __future__ import annotations

import typer

from askfirst.journal.verify import verify
from askfirst.settings import load_settings
from askfirst.store import open_store

journal_app = typer.Typer(help="Check the hash-chained record of every use of data.")


@journal_app.command("verify")
def verify_command() -> None:
    """Check every journal entry and the head file; exit 1 naming the first bad entry."""
    store = open_store(load_settings())
    try:
        result = verify(store)
    finally:
        store.engine.dispose()
    if result.ok:
        typer.echo(f"OK: {result.entries} entries, head hash {result.head_hash}")
        return
    where = f"entry {result.first_bad}" if result.first_bad is not None else "head file"
    typer.echo(f"FAILED at {where}: {result.reason}", err=True)
    typer.echo(f"{result.entries} entries hold before it.", err=True)
    raise typer.Exit(code=1)
