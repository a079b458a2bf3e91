"""The command line: every askfirst command, one line of help each."""

from __future__ import annotations

import typer

from askfirst.journal.commands import journal_app
from askfirst.settings import load_settings
from askfirst.store import open_store

app = typer.Typer(
    help="askfirst: chat features trained only on data of members who said yes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(journal_app, name="journal")


@app.command()
def migrate() -> None:
    """Create or upgrade the store's tables."""
    settings = load_settings()
    open_store(settings)
    typer.echo(f"store ready: {settings.database_url}")


if __name__ == "__main__":
    app()
