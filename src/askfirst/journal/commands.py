"""`askfirst journal ...`: the journal's commands for admins."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from askfirst.journal.checkpoints import Checkpoint, parse_checkpoint
from askfirst.journal.verify import Verification, registered_state_checks, verify
from askfirst.settings import load_settings
from askfirst.store import open_store

journal_app = typer.Typer(help="Check the hash-chained record of every use of data.")


@journal_app.command("verify")
def verify_command(
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            help="a line 'askfirst journal checkpoint' printed earlier: the entry it names "
            "must still have its hash (repeat for several)"
        ),
    ] = None,
) -> None:
    """Check every journal entry, the head file and history, and any checkpoints given; exit 1
    naming the first bad entry."""
    try:
        kept = [parse_checkpoint(line) for line in checkpoint or []]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--checkpoint") from error
    result = _verified(kept)
    if result.ok:
        typer.echo(f"OK: {result.entries} entries, head hash {result.head_hash}")
        if kept:
            typer.echo(f"Every checkpoint holds ({len(kept)}).")
        return
    _fail(result)


@journal_app.command("checkpoint")
def checkpoint_command() -> None:
    """Verify the journal, then print a line naming its newest entry, for someone else to keep.

    Later, `askfirst journal verify --checkpoint LINE` checks that nothing up to that entry
    changed, even if whoever changed it could also write the database and the data folder.
    """
    result = _verified([])
    if not result.ok:
        _fail(result)
    if result.entries == 0 or result.head_hash is None:
        typer.echo("The journal is empty: there is nothing to checkpoint yet.", err=True)
        raise typer.Exit(code=1)
    typer.echo(Checkpoint(result.entries, result.head_hash).line())


def _verified(checkpoints: list[Checkpoint]) -> Verification:
    store = open_store(load_settings())
    try:
        return verify(store, checkpoints, registered_state_checks())
    finally:
        store.engine.dispose()


def _fail(result: Verification) -> NoReturn:
    where = f" at entry {result.first_bad}" if result.first_bad is not None else ""
    typer.echo(f"FAILED{where}: {result.reason}", err=True)
    typer.echo(f"{result.entries} entries hold before it.", err=True)
    raise typer.Exit(code=1)
