"""`askfirst suggest` and `askfirst recommend`: what serving answers, at the command line."""

from __future__ import annotations

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.enrolment import find_workspace
from askfirst.accounts.errors import UnknownAccount, UnknownWorkspace
from askfirst.accounts.lookup import find_member
from askfirst.clock import SystemClock
from askfirst.store.tables import Workspace
from askfirst.training.commands import opened_store
from askfirst.training.serving import recommend_channels, suggest_emoji

WORKSPACE = typer.Option(None, help="the workspace's name or Slack team id (default: the only one)")


def _workspace_id(session: Session, name: str | None) -> int:
    """The named workspace, or the store's only one; a readable exit otherwise."""
    try:
        if name is not None:
            return find_workspace(session, name).id
    except UnknownWorkspace as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    found = session.scalars(select(Workspace.id)).all()
    if len(found) != 1:
        typer.echo(f"the store holds {len(found)} workspaces; name one with --workspace", err=True)
        raise typer.Exit(1)
    return found[0]


def suggest_command(
    text: str = typer.Argument(..., help="the draft to suggest emoji for"),
    channel: str | None = typer.Option(None, help="the channel the draft is for"),
    k: int = typer.Option(5, min=1, max=20, help="how many emoji"),
    workspace: str | None = WORKSPACE,
) -> None:
    """Suggest emoji for a draft, from the served release or the public prior."""
    with opened_store() as (store, settings):
        with store.reading() as session:
            workspace_id = _workspace_id(session, workspace)
        found = suggest_emoji(
            store, settings=settings, clock=SystemClock(), workspace_id=workspace_id,
            text=text, channel=channel, k=k,
        )  # fmt: skip
    origin = "public prior" if found.release_id is None else f"release {found.release_id}"
    typer.echo(f"from the {origin}:")
    for suggestion in found.suggestions:
        typer.echo(
            f"  {suggestion.char} :{suggestion.name}:  {suggestion.score:.3f} ({suggestion.source})"
        )


def recommend_command(
    member: str = typer.Argument(..., help="the member's login or Slack id, e.g. ada or U024BE7LH"),
    k: int = typer.Option(5, min=1, max=20, help="how many channels"),
    workspace: str | None = WORKSPACE,
) -> None:
    """Recommend public channels a member is not in and can join."""
    with opened_store() as (store, settings):
        with store.reading() as session:
            workspace_id = _workspace_id(session, workspace)
            try:
                member_id = find_member(session, member, workspace_id).id
            except UnknownAccount as error:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(1) from None
        found = recommend_channels(
            store, settings=settings, clock=SystemClock(), member_id=member_id, k=k
        )
    if not found.channels:
        typer.echo("no recommendations: no channel recommender release is being served")
    for suggestion in found.channels:
        typer.echo(f"  #{suggestion.name}  {suggestion.score:.3f}")
