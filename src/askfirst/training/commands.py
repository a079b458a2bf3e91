"""`askfirst train`, `askfirst releases` and `askfirst reconcile`: training at the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.enrolment import find_workspace
from askfirst.accounts.errors import AccountError
from askfirst.clock import SystemClock
from askfirst.consent.errors import ConsentError
from askfirst.consent.purposes import Purpose, find_purpose, load_purposes
from askfirst.settings import Settings, load_settings
from askfirst.store import Store, open_store
from askfirst.store.tables import Release, Workspace
from askfirst.training.fitters import FITTERS
from askfirst.training.pipeline import TrainingError, TrainingOutcome, train
from askfirst.training.releases import release_payload, releases
from askfirst.training.schedule import refresh_due
from askfirst.training.withdrawals import reconcile

PURPOSE = typer.Argument(..., help="a purpose key, e.g. emoji_suggestions, or 'all'")
WORKSPACE = typer.Option(None, help="the workspace's name or Slack team id (default: every one)")


@contextmanager
def opened_store() -> Iterator[tuple[Store, Settings]]:
    """The configured store and settings; the store's connections are closed afterwards."""
    settings = load_settings()
    store = open_store(settings)
    try:
        yield store, settings
    finally:
        store.engine.dispose()


def train_command(purpose: str = PURPOSE, workspace: str | None = WORKSPACE) -> None:
    """Train a purpose (or all) from a snapshot taken now, and serve the release."""
    with opened_store() as (store, settings):
        failed = _train_all(store, settings, purpose, workspace)
    if failed:
        raise typer.Exit(1)


def _train_all(store: Store, settings: Settings, purpose: str, workspace: str | None) -> bool:
    purposes = load_purposes(settings)
    keys = _purpose_keys(purpose, purposes)
    failed = False
    with Console().status("training") as status:
        for workspace_id, name in chosen_workspaces(store, workspace):
            for key in keys:
                status.update(f"training {key} for {name}")
                try:
                    outcome = train(
                        store,
                        workspace_id=workspace_id,
                        purpose_key=key,
                        settings=settings,
                        clock=SystemClock(),
                        purposes=purposes,
                    )
                except TrainingError as error:
                    failed = True
                    typer.echo(f"{name} {key}: not trained: {error}", err=True)
                    continue
                typer.echo(f"{name} {key}: {_outcome_line(outcome)}")
    return failed


def releases_command(
    workspace: str | None = WORKSPACE,
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List releases, newest first: purpose, status, members, (ε, δ), utility."""
    with opened_store() as (store, _settings), store.reading() as session:
        workspace_id = None if workspace is None else _find_workspace(session, workspace).id
        names = {row.id: row.name for row in session.execute(select(Workspace.id, Workspace.name))}
        rows = [
            {**release_payload(release), "workspace": names[release.workspace_id]}
            for release in releases(session, workspace_id=workspace_id)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    Console().print(_table(rows))


def reconcile_command() -> None:
    """Once: mark overdue withdrawals, replace served releases that contain withdrawn members."""
    with opened_store() as (store, settings):
        report = reconcile(
            store, clock=SystemClock(), settings=settings, purposes=load_purposes(settings)
        )
    typer.echo(
        f"withdrawals completed: {len(report.completed)}, overdue: {len(report.overdue)}; "
        f"releases promoted: {len(report.promoted)}, retired: {len(report.retired)}"
    )
    for failure in report.failures:
        typer.echo(f"retrain failed, prior served instead: {failure}", err=True)


def refresh_command() -> None:
    """Once: train every purpose whose scheduled refresh is due (the server does this itself)."""
    with opened_store() as (store, settings):
        report = refresh_due(
            store, clock=SystemClock(), settings=settings, purposes=load_purposes(settings)
        )
    typer.echo(
        f"scheduled releases promoted: {len(report.promoted)}, refused: {len(report.refused)}"
    )
    for failure in report.failures:
        typer.echo(f"scheduled training failed: {failure}", err=True)


def _purpose_keys(purpose: str, purposes: Mapping[str, Purpose]) -> list[str]:
    if purpose == "all":
        return [key for key in purposes if key in FITTERS]
    try:
        return [find_purpose(purposes, purpose).key]
    except ConsentError as error:
        raise typer.BadParameter(str(error), param_hint="PURPOSE") from None


def chosen_workspaces(store: Store, name: str | None) -> list[tuple[int, str]]:
    with store.reading() as session:
        if name is not None:
            found = _find_workspace(session, name)
            return [(found.id, found.name)]
        query = select(Workspace.id, Workspace.name).order_by(Workspace.id)
        every = [(row.id, row.name) for row in session.execute(query)]
    if not every:
        raise typer.BadParameter("the store holds no workspace; import or generate one first")
    return every


def _find_workspace(session: Session, name: str) -> Workspace:
    try:
        return find_workspace(session, name)
    except AccountError as error:
        raise typer.BadParameter(str(error), param_hint="--workspace") from None


def _outcome_line(outcome: TrainingOutcome) -> str:
    release: Release = outcome.release
    state = "promoted" if outcome.promoted else f"not promoted ({outcome.refusal})"
    keys = release.utility.get("keys_released", "?")
    return (
        f"release {release.id} {state}: {release.member_count} members, "
        f"ε={release.epsilon:.3g}, δ={release.delta:.2g}, {keys} keys released, "
        f"bounded and counted on the {release.mechanism.get('engine', 'local')} engine"
    )


def _table(rows: list[dict[str, object]]) -> Table:
    table = Table("id", "workspace", "purpose", "status", "members", "ε", "δ", "created", "utility")
    for row in rows:
        utility = row["utility"] if isinstance(row["utility"], dict) else {}
        table.add_row(
            str(row["release_id"]),
            str(row["workspace"]),
            str(row["purpose"]),
            str(row["status"]),
            str(row["members"]),
            f"{row['epsilon']:.3g}",
            f"{row['delta']:.2g}",
            str(row["created_at"])[:19],
            ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in sorted(utility.items())
            ),
        )
    return table
