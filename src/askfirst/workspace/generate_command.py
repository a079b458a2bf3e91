"""`askfirst generate`: write a synthetic workspace as a Slack export .zip."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from askfirst.workspace.generator import GeneratedSummary, generate_workspace


def generate(
    out: Path = typer.Argument(..., help="The .zip file to write (replaced if it exists)."),
    members: int = typer.Option(50, "--members", help="How many human members."),
    messages: int = typer.Option(5_000, "--messages", help="Exactly how many messages."),
    seed: int = typer.Option(0, "--seed", help="The same seed always gives the same bytes."),
) -> None:
    """Write a synthetic workspace as a Slack export .zip (deterministic for a seed)."""
    if not out.parent.is_dir():
        raise typer.BadParameter(
            f"folder {out.parent} does not exist; create it first", param_hint="OUT"
        )
    started = time.perf_counter()
    try:
        with counting_progress("generating", messages) as progress:
            summary = generate_workspace(out, members, messages, seed, progress=progress)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(describe(summary, time.perf_counter() - started))


def describe(summary: GeneratedSummary, seconds: float) -> str:
    channels = sum(summary.channels.values())
    return (
        f"wrote {summary.path}: {summary.members:,} members (+{summary.bots} bots), "
        f"{channels:,} conversations, {summary.messages:,} messages "
        f"({summary.thread_replies:,} thread replies), {summary.reactions:,} reactions, "
        f"{summary.files:,} files over {summary.days} days in {seconds:.1f} s"
    )


@contextmanager
def counting_progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A callback taking a running count: a Rich bar on a terminal, silence anywhere else."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)
