"""`askfirst budget`: every member's privacy budget per purpose, for the operator.

An operator command on the machine, never a web view: admins do not see budgets per member
(docs/consent.md, "Small counts"). Figures are ε at the purpose's δ, from the ρ the one
accountant sums (`askfirst.training.budgets`): what each member has spent in the window, what
is left, and what a whole window of scheduled releases costs them (`planned`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import SystemClock
from askfirst.consent.purposes import Purpose, load_purposes
from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.store.tables import Account, Member
from askfirst.training.budgets import remaining, spent_by_member
from askfirst.training.commands import WORKSPACE, chosen_workspaces, opened_store
from askfirst.training.fitters import FITTERS
from askfirst.training.snapshots import people


@dataclass(frozen=True)
class PurposeBudget:
    """One member's budget for one purpose, in ε at `delta`."""

    purpose: str
    spent: float
    limit: float
    remaining: float
    planned: float
    delta: float
    window_days: int


@dataclass
class MemberBudgets:
    """A member and their budget per purpose."""

    member_id: int
    workspace: str
    slack_id: str
    name: str
    login: str | None
    purposes: list[PurposeBudget] = field(default_factory=list)


def budget_purposes(purposes: Mapping[str, Purpose]) -> list[Purpose]:
    """The purposes that spend budget: those that make releases."""
    return [purposes[key] for key in sorted(set(purposes) & set(FITTERS))]


def member_budgets(
    session: Session,
    *,
    workspace_id: int,
    workspace_name: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> list[MemberBudgets]:
    """Every person of a workspace with their budget per purpose (one query per purpose)."""
    ids = people(session, workspace_id)
    # The whole workspace, kept to its people here: an IN list of every id could outgrow
    # SQLite's limit on bound parameters.
    rows = session.execute(
        select(Member.id, Member.slack_id, Member.name, Member.real_name, Account.login)
        .outerjoin(Account, Account.member_id == Member.id)
        .where(Member.workspace_id == workspace_id)
        .order_by(Member.id)
    )
    found = {
        row.id: MemberBudgets(
            row.id, workspace_name, row.slack_id, row.real_name or row.name, row.login
        )
        for row in rows
        if row.id in ids
    }
    for purpose in budget_purposes(purposes):
        spent_rho = spent_by_member(session, workspace_id=workspace_id, purpose=purpose, at=at)
        planned = epsilon_for_rho(purpose.plan.rho_planned, purpose.delta)
        for member_id, member in found.items():
            spent = epsilon_for_rho(spent_rho.get(member_id, 0.0), purpose.delta)
            member.purposes.append(
                PurposeBudget(
                    purpose=purpose.key,
                    spent=spent,
                    limit=purpose.budget_epsilon,
                    remaining=remaining(purpose.budget_epsilon, spent),
                    planned=planned,
                    delta=purpose.delta,
                    window_days=purpose.budget_window_days,
                )
            )
    return list(found.values())


def budget_command(
    workspace: str | None = WORKSPACE,
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Every member's privacy budget per purpose: spent, limit, remaining, planned (ε at δ)."""
    with opened_store() as (store, settings):
        purposes = load_purposes(settings)
        at = SystemClock().now()
        found: list[MemberBudgets] = []
        for workspace_id, name in chosen_workspaces(store, workspace):
            with store.reading() as session:
                found += member_budgets(
                    session,
                    workspace_id=workspace_id,
                    workspace_name=name,
                    at=at,
                    purposes=purposes,
                )
    if as_json:
        typer.echo(json.dumps([asdict(member) for member in found], indent=2))
        return
    Console().print(_table(found))


def _table(found: list[MemberBudgets]) -> Table:
    table = Table(
        "workspace",
        "member",
        "login",
        "purpose",
        "spent ε",
        "limit ε",
        "remaining ε",
        "planned ε",
        "δ",
        title="Privacy budgets: ε at δ over each purpose's window, all releases together",
    )
    for member in found:
        for budget in member.purposes:
            table.add_row(
                member.workspace,
                f"{member.name} ({member.slack_id})",
                member.login or "",
                budget.purpose,
                f"{budget.spent:.3g}",
                f"{budget.limit:g}",
                f"{budget.remaining:.3g}",
                f"{budget.planned:.3g}",
                f"{budget.delta:g}",
            )
    return table
