"""Privacy-loss budgets: what each member has spent per purpose over a rolling window.

One accountant (`askfirst.privacy.accountant`): every charge is a zCDP ρ, the charges of a
window add up, and the sum is shown as the ε it amounts to at the purpose's δ — the units the
budget is set in. A release charges every member it contains the plan's ρ per release; a
withdrawal charges only the member who withdrew the ρ of the noise that takes them out. A
member joins a release only if their remaining ρ pays for it and for one withdrawal after it
(`Plan.rho_admission`), so leaving is always affordable. The arithmetic is plain functions over
plain values; the queries at the bottom feed it from the `release_charges` table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent.pools import rows_of_persons
from askfirst.consent.purposes import Purpose
from askfirst.privacy.accountant import epsilon_for_rho, rho_for_epsilon
from askfirst.store.tables import ChargeReason, Member, ReleaseCharge, Workspace

# Sums of float ρ may land a hair above a limit; this keeps exact fits paying.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Charge:
    """One release's charge to one member's budget: ρ, and what it is alone as ε."""

    release_id: int
    epsilon: float
    charged_at: datetime
    rho: float = 0.0
    reason: ChargeReason = ChargeReason.RELEASE


@dataclass(frozen=True)
class BudgetStatus:
    """A member's budget for a purpose at one instant, in ε at the purpose's δ (and in ρ).

    `spent` is the ε of all charges in the window together; `planned` the ε the window would
    cost if the member stays in every scheduled release (`Plan.rho_planned`); `limit` the
    budget's ε.
    """

    member_id: int
    purpose_key: str
    spent: float
    remaining: float
    limit: float
    window_days: int
    charges: list[Charge] = field(default_factory=list)
    delta: float = 1e-6
    spent_rho: float = 0.0
    remaining_rho: float = 0.0
    planned: float = 0.0

    def can_pay(self, rho: float) -> bool:
        return can_pay(self.remaining_rho, rho)


def window_start(at: datetime, window_days: int) -> datetime:
    """The instant after which a charge still counts at `at`."""
    return at - timedelta(days=window_days)


def in_window(charged_at: datetime, *, at: datetime, window_days: int) -> bool:
    """Whether a charge made at `charged_at` still counts at `at` (charges after `at` do not)."""
    return window_start(at, window_days) < charged_at <= at


def spent(rhos: Iterable[float]) -> float:
    """The total ρ of some charges: zCDP composes by addition (an exact float sum)."""
    return math.fsum(rhos)


def remaining(limit: float, spent_so_far: float) -> float:
    """What is left of `limit` after `spent_so_far`; never negative."""
    return max(0.0, limit - spent_so_far)


def can_pay(remaining_budget: float, cost: float) -> bool:
    """Whether a budget with `remaining_budget` left can pay `cost` (both ρ)."""
    return remaining_budget + TOLERANCE >= cost


def charge_rho(charge_rho_value: float, epsilon: float, delta: float) -> float:
    """A charge's ρ; charges recorded before ρ was (ρ = 0) count at the ρ of their ε at δ."""
    if charge_rho_value > 0 or epsilon <= 0:
        return charge_rho_value
    return rho_for_epsilon(epsilon, delta)


def status_from_charges(
    charges: Iterable[Charge], *, member_id: int, purpose: Purpose, at: datetime
) -> BudgetStatus:
    """The budget status of a member at `at` from all their charges for `purpose`."""
    counted = sorted(
        (
            c
            for c in charges
            if in_window(c.charged_at, at=at, window_days=purpose.budget_window_days)
        ),
        key=lambda c: (c.charged_at, c.release_id),
    )
    plan = purpose.plan
    total = spent(c.rho for c in counted)
    return BudgetStatus(
        member_id=member_id,
        purpose_key=purpose.key,
        spent=epsilon_for_rho(total, purpose.delta),
        remaining=remaining(purpose.budget_epsilon, epsilon_for_rho(total, purpose.delta)),
        limit=purpose.budget_epsilon,
        window_days=purpose.budget_window_days,
        charges=counted,
        delta=purpose.delta,
        spent_rho=total,
        remaining_rho=remaining(plan.rho_budget, total),
        planned=epsilon_for_rho(plan.rho_planned, purpose.delta),
    )


def budget_status(
    session: Session,
    *,
    member_id: int,
    purpose_key: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> BudgetStatus:
    """A member's budget for `purpose_key` at `at`, with the charges that count against it.

    The member is one person across the workspaces of their org (`askfirst.consent.pools`):
    the charges of all their rows count, each release once.
    """
    purpose = purposes[purpose_key]
    rows = rows_of_persons(session, [member_id]).get(member_id, {member_id})
    found = session.execute(
        select(
            ReleaseCharge.release_id,
            ReleaseCharge.epsilon,
            ReleaseCharge.charged_at,
            ReleaseCharge.rho,
            ReleaseCharge.reason,
        ).where(
            ReleaseCharge.member_id.in_(sorted(rows)),
            ReleaseCharge.purpose_key == purpose_key,
            ReleaseCharge.charged_at > window_start(at, purpose.budget_window_days),
            ReleaseCharge.charged_at <= at,
        )
    )
    once = {(r.release_id, r.reason): r for r in found}
    charges = [
        Charge(
            r.release_id,
            r.epsilon,
            r.charged_at,
            charge_rho(r.rho, r.epsilon, purpose.delta),
            r.reason,
        )
        for r in once.values()
    ]
    return status_from_charges(charges, member_id=member_id, purpose=purpose, at=at)


def spent_by_member(
    session: Session, *, workspace_id: int, purpose: Purpose, at: datetime
) -> dict[int, float]:
    """The ρ every member of a workspace's org with a charge in the window has spent on
    `purpose`, as one person: the charges of all rows sharing their Slack id in the org, each
    release once (a pooled release charges every row of a person it contains)."""
    org_id = select(Workspace.org_id).where(Workspace.id == workspace_id).scalar_subquery()
    rows = session.execute(
        select(
            Member.slack_id,
            ReleaseCharge.release_id,
            ReleaseCharge.reason,
            ReleaseCharge.rho,
            ReleaseCharge.epsilon,
        )
        .join(Member, Member.id == ReleaseCharge.member_id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(
            Workspace.org_id == org_id,
            ReleaseCharge.purpose_key == purpose.key,
            ReleaseCharge.charged_at > window_start(at, purpose.budget_window_days),
            ReleaseCharge.charged_at <= at,
        )
    )
    charges: dict[str, dict[tuple[int, str], float]] = {}
    for slack_id, release_id, reason, rho, epsilon in rows:
        charged = charges.setdefault(slack_id, {})
        charged[(release_id, reason)] = charge_rho(rho, epsilon, purpose.delta)
    if not charges:
        return {}
    by_person = {slack_id: spent(c.values()) for slack_id, c in charges.items()}
    members = session.execute(
        select(Member.id, Member.slack_id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(Workspace.org_id == org_id, Member.slack_id.in_(sorted(by_person)))
    )
    return {member_id: by_person[slack_id] for member_id, slack_id in members}


def members_who_can_pay(
    candidates: Iterable[int],
    spent_so_far: Mapping[int, float],
    *,
    purpose: Purpose,
    cost: float | None = None,
) -> set[int]:
    """The candidates whose remaining ρ pays `cost` (default: one more release and a
    withdrawal after it, `Plan.rho_admission`)."""
    plan = purpose.plan
    needed = plan.rho_admission if cost is None else cost
    return {
        member_id
        for member_id in candidates
        if can_pay(remaining(plan.rho_budget, spent_so_far.get(member_id, 0.0)), needed)
    }
