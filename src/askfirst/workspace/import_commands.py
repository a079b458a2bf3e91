"""`askfirst import` and `askfirst stats`: a Slack or Mattermost export into the store, and what
it holds."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from askfirst.settings import load_settings
from askfirst.store import open_store
from askfirst.workspace.export_archive import MB, ExportError, Limits
from askfirst.workspace.importer import import_export
from askfirst.workspace.mattermost_export import is_mattermost_export
from askfirst.workspace.mattermost_importer import import_mattermost
from askfirst.workspace.slack_export import open_export
from askfirst.workspace.stats import UnknownWorkspace, WorkspaceCounts, workspace_stats

KIND_WORDS = {
    "public": "public",
    "private": "private",
    "direct": "direct",
    "multi_direct": "multi-person direct",
}


def import_command(
    path: Path = typer.Argument(
        ..., help="The export: Slack's .zip or its folder, or Mattermost's .jsonl or .zip."
    ),
    workspace: str = typer.Option(
        "main",
        "--workspace",
        help="The workspace to import into (Mattermost: only when the export has no team).",
    ),
    max_day_file_mb: int = typer.Option(
        Limits.max_day_file_bytes // MB,
        "--max-day-file-mb",
        min=1,
        help="Refuse a Slack day file larger than this (it is read whole into memory).",
    ),
    mirror: bool = typer.Option(
        False,
        "--mirror",
        help="Delete stored messages of the export's channels and days that it no longer "
        "holds (journaled); without it they are kept and counted.",
    ),
    exclusive: bool = typer.Option(
        False,
        "--exclusive",
        help="PostgreSQL: lock messages, reactions, files, members and channels for the whole "
        "import (the chat page, consent changes, withdrawals and training wait until it ends) "
        "and check their foreign keys and build their secondary indexes once at the end: "
        "less than half the server's work, for first imports of big exports or maintenance "
        "windows. SQLite: accepted, changes nothing "
        "(its import holds the database's write lock already).",
    ),
) -> None:
    """Import a Slack or Mattermost export; bad or hostile files change nothing."""
    store = open_store(load_settings())
    limits = Limits(max_day_file_bytes=max_day_file_mb * MB)
    try:
        if is_mattermost_export(path):
            imported = import_mattermost(store, path, workspace, mirror=mirror, exclusive=exclusive)
            typer.echo(imported.line())
            return
        with import_progress(path, limits) as progress:
            summary = import_export(
                store, path, workspace, progress, limits=limits, mirror=mirror, exclusive=exclusive
            )
    except ExportError as error:
        typer.echo(f"{error}\nnothing was imported.", err=True)
        raise typer.Exit(1) from None
    typer.echo(summary.line())
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}")


def stats_command(
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    workspace: str | None = typer.Option(
        None, "--workspace", help="Count one workspace (default: all of them)."
    ),
) -> None:
    """Count members, channels by kind, messages, reactions and files."""
    store = open_store(load_settings())
    try:
        counts = workspace_stats(store, workspace)
    except UnknownWorkspace as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(counts, indent=2) if as_json else describe(counts))


def describe(counts: WorkspaceCounts) -> str:
    channels = counts["channels"]
    kinds = ", ".join(f"{KIND_WORDS[kind]} {n:,}" for kind, n in channels.items())
    lines = [
        ("workspaces", f"{counts['workspaces']:,}"),
        (
            "members",
            f"{counts['members']:,} (bots {counts['bots']:,}, "
            f"placeholders {counts['placeholders']:,})",
        ),
        ("channels", f"{sum(channels.values()):,} ({kinds})"),
        ("memberships", f"{counts['memberships']:,}"),
        ("messages", f"{counts['messages']:,}"),
        ("reactions", f"{counts['reactions']:,}"),
        ("files", f"{counts['files']:,}"),
    ]
    return "\n".join(f"{name:<12} {value}" for name, value in lines)


@contextmanager
def import_progress(path: Path, limits: Limits) -> Iterator[Callable[[int], None] | None]:
    """A Rich bar over the export's day files on a terminal; nothing anywhere else."""
    if not sys.stdout.isatty():
        yield None
        return
    with open_export(path, limits) as export:
        day_files = len(export.day_files)
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("day files, {task.fields[messages]:,} messages"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("import", total=day_files, messages=0)
        yield lambda read: bar.update(task, advance=1, messages=read)
