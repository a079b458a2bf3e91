"""`askfirst consent ...` and `askfirst policy ...`: consent at the command line, for operators.

An operator records an answer only at the member's own request (method `cli`, journaled like
any other). Admin views show counts, never a member's answer, except `consent show` for the
member the operator names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.enrolment import find_workspace
from askfirst.accounts.errors import AccountError
from askfirst.accounts.lookup import find_member
from askfirst.clock import SystemClock
from askfirst.consent.answers import grant, withdraw
from askfirst.consent.counts import answer_counts
from askfirst.consent.errors import ConsentError, UnknownWorkspaceError
from askfirst.consent.notices import current_notice
from askfirst.consent.policies import policy_for_workspace, set_policy
from askfirst.consent.pools import join_org, org_workspaces, pool_of, set_pool
from askfirst.consent.purposes import Purpose, find_purpose, load_purposes
from askfirst.consent.status import current_answers
from askfirst.consent.withdrawals import Withdrawal, mark_overdue, open_withdrawals
from askfirst.consent.withdrawals import withdrawals_for_member as member_withdrawals
from askfirst.settings import load_settings
from askfirst.store import open_store
from askfirst.store.tables import Member, Org

consent_app = typer.Typer(help="Members' answers per purpose, notices and withdrawals.")
policy_app = typer.Typer(help="Org and workspace switches that can only restrict a purpose.")
org_app = typer.Typer(help="Orgs: the workspaces that may pool their training.")

WORKSPACE = typer.Option(None, help="the workspace's name or Slack team id")
MEMBER = typer.Argument(..., help="the member's login or Slack user id, e.g. ada or U024BE7LH")
PURPOSE = typer.Argument(..., help="the purpose key, e.g. emoji_suggestions")


@consent_app.command("show")
def show(member: str = MEMBER, workspace: str | None = WORKSPACE) -> None:
    """Show a member's answer for every purpose, whether it counts and why, and withdrawals."""
    with _session() as (session, purposes):
        found = _find_member(session, member, workspace)
        statuses = current_answers(session, found.id, purposes)
        withdrawals = member_withdrawals(session, found.id)
    for key, status in statuses.items():
        answer = status.answer.value if status.answer else "not asked"
        since = f" since {status.since.isoformat()} ({status.method})" if status.since else ""
        counts = "counts" if status.effective else "does not count"
        typer.echo(f"{key}: {answer}{since}; {counts}: {status.reason}")
    for each in withdrawals:
        typer.echo(_withdrawal_line(each))


@consent_app.command("grant")
def grant_command(
    member: str = MEMBER,
    purpose: str = PURPOSE,
    workspace: str | None = WORKSPACE,
    yes: bool = typer.Option(False, "--yes", help="the member asked for this; do not prompt"),
) -> None:
    """Record a member's yes, at the member's own request (method cli)."""
    if not yes:
        typer.confirm(f"Did {member} ask you to record their yes to {purpose}?", abort=True)
    with _session(writing=True) as (session, purposes):
        found = _find_member(session, member, workspace)
        change = grant(
            session,
            member_id=found.id,
            purpose_key=purpose,
            method="cli",
            clock=SystemClock(),
            purposes=purposes,
        )
    done = "recorded" if change.changed else "already recorded"
    typer.echo(f"{done}: {member} granted {purpose} (notice {change.notice_version[:12]})")


@consent_app.command("withdraw")
def withdraw_command(
    member: str = MEMBER, purpose: str = PURPOSE, workspace: str | None = WORKSPACE
) -> None:
    """Record a member's no (a withdrawal after a yes, a refusal before any answer)."""
    with _session(writing=True) as (session, purposes):
        found = _find_member(session, member, workspace)
        opened = withdraw(
            session,
            member_id=found.id,
            purpose_key=purpose,
            method="cli",
            clock=SystemClock(),
            purposes=purposes,
        )
        status = current_answers(session, found.id, purposes)[purpose]
    answer = status.answer.value if status.answer else "not asked"
    typer.echo(f"{member} {purpose}: {answer}")
    if opened is not None:
        typer.echo(_withdrawal_line(opened))


@consent_app.command("notice")
def notice_command(purpose: str = PURPOSE, workspace: str = typer.Option(..., help="name")) -> None:
    """Print the notice members of a workspace are shown for a purpose, and its version."""
    with _session() as (session, purposes):
        found = find_workspace(session, workspace)
        shown = current_notice(
            session, workspace_id=found.id, purpose=find_purpose(purposes, purpose)
        )
    typer.echo(shown.text)
    typer.echo(f"\nnotice version {shown.version}")


@consent_app.command("counts")
def counts_command(workspace: str = typer.Option(..., help="the workspace's name")) -> None:
    """How many members granted, withdrew, refused or were not asked, per purpose."""
    with _session() as (session, purposes):
        found = find_workspace(session, workspace)
        for key in sorted(purposes):
            counts = answer_counts(session, found.id, key)
            typer.echo(f"{key}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@consent_app.command("withdrawals")
def withdrawals_command(workspace: str | None = WORKSPACE) -> None:
    """Mark overdue withdrawals, then list the open ones (oldest first)."""
    with _session(writing=True) as (session, _purposes):
        mark_overdue(session, clock=SystemClock())
        scope = None if workspace is None else find_workspace(session, workspace).id
        opened = open_withdrawals(session, scope)
    for each in opened:
        typer.echo(_withdrawal_line(each))
    typer.echo(f"{len(opened)} open withdrawal(s)")


@policy_app.command("set")
def policy_set(
    purpose: str = PURPOSE,
    org: str | None = typer.Option(None, help="the org's name (set the org's switch)"),
    workspace: str | None = WORKSPACE,
    allow: bool | None = typer.Option(None, "--allow/--forbid", help="switch the purpose on/off"),
    private: bool | None = typer.Option(
        None, "--private/--public-only", help="make private channels and DMs eligible, or not"
    ),
) -> None:
    """Set an org's or a workspace's switch for a purpose; it can only restrict members."""
    with _session(writing=True) as (session, purposes):
        org_id = None if org is None else _find_org(session, org).id
        workspace_id = None if workspace is None else find_workspace(session, workspace).id
        change = set_policy(
            session,
            purpose_key=purpose,
            purposes=purposes,
            clock=SystemClock(),
            org_id=org_id,
            workspace_id=workspace_id,
            allowed=allow,
            include_private=private,
        )
    done = "set" if change.changed else "unchanged"
    typer.echo(
        f"{done}: {change.scope} {org or workspace} {purpose}: "
        f"{'allowed' if change.after.allowed else 'forbidden'}, "
        f"{'private channels and DMs too' if change.after.include_private else 'public only'}"
    )


@policy_app.command("pool")
def policy_pool(
    purpose: str = PURPOSE,
    org: str = typer.Option(..., help="the org's name"),
    pooled: bool = typer.Option(
        ..., "--on/--off", help="train one release for all the org's workspaces, or one each"
    ),
) -> None:
    """Let an org's workspaces train one shared release for a purpose (more people per key,
    the same guarantee: a person in several workspaces is one privacy unit). Members still
    say yes per purpose; a workspace that forbids the purpose stays out."""
    with _session(writing=True) as (session, purposes):
        found = _find_org(session, org)
        change = set_pool(
            session,
            org_id=found.id,
            purpose_key=purpose,
            pooled=pooled,
            purposes=purposes,
            clock=SystemClock(),
        )
        workspaces = org_workspaces(session, found.id)
    done = "set" if change.changed else "unchanged"
    how = (
        f"one release for its {len(workspaces)} workspace(s), from the next training"
        if pooled
        else "one release per workspace"
    )
    typer.echo(f"{done}: org {org} {purpose}: {how}")


@org_app.command("join")
def org_join(
    workspace: str = typer.Argument(..., help="the workspace's name or Slack team id"),
    org: str = typer.Option(..., help="the org's name (created when missing)"),
) -> None:
    """Put a workspace into an org, so the org can pool it with its other workspaces."""
    with _session(writing=True) as (session, _purposes):
        found = find_workspace(session, workspace)
        join_org(session, workspace_id=found.id, org_name=org, clock=SystemClock())
    typer.echo(f"workspace {workspace} is in org {org}")


@policy_app.command("show")
def policy_show(workspace: str = typer.Option(..., help="the workspace's name")) -> None:
    """Show the org's and the workspace's switches for every purpose."""
    with _session() as (session, purposes):
        found = find_workspace(session, workspace)
        for key in sorted(purposes):
            policy = policy_for_workspace(session, workspace_id=found.id, purpose_key=key)
            pool = pool_of(session, workspace_id=found.id, purpose_key=key)
            pooled = f"; pooled with workspaces {list(pool)}" if len(pool) > 1 else ""
            typer.echo(
                f"{key}: org {_words(policy.org.allowed, policy.org.include_private)}; "
                f"workspace {_words(policy.workspace.allowed, policy.workspace.include_private)}"
                f"{pooled}"
            )


@contextmanager
def _session(writing: bool = False) -> Iterator[tuple[Session, dict[str, Purpose]]]:
    """A session on the configured store; consent errors end the command with exit 1."""
    settings = load_settings()
    try:
        purposes = load_purposes(settings)
        store = open_store(settings)
        try:
            with store.transaction() if writing else store.reading() as session:
                yield session, purposes
        finally:
            store.engine.dispose()
    except (ConsentError, AccountError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None


def _find_member(session: Session, who: str, workspace: str | None) -> Member:
    workspace_id = None if workspace is None else find_workspace(session, workspace).id
    return find_member(session, who, workspace_id)


def _find_org(session: Session, name: str) -> Org:
    found = session.scalars(select(Org).where(Org.name == name)).all()
    if len(found) != 1:
        known = ", ".join(session.scalars(select(Org.name))) or "(none)"
        raise UnknownWorkspaceError(f"no single org is named {name!r}; orgs: {known}")
    return found[0]


def _withdrawal_line(each: Withdrawal) -> str:
    late = " (late)" if each.late else ""
    return (
        f"withdrawal {each.id} {each.purpose_key}: {each.status}{late}, "
        f"deadline {each.deadline.isoformat()}"
    )


def _words(allowed: bool, include_private: bool) -> str:
    if not allowed:
        return "forbidden"
    return "allowed, private channels and DMs too" if include_private else "allowed, public only"
