"""Privacy-loss budgets: what each member has spent per purpose over a rolling window.

The arithmetic is plain functions over plain values; the queries at the bottom feed it from the
`release_charges` table. A release charges every member it contains its ε at its creation time;
a charge counts while it is younger than the purpose's window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent.purposes import Purpose
from askfirst.store.tables import Release, ReleaseCharge

# Sums of float ε (0.1 + 0.2 ...) may land a hair above the limit; this keeps exact fits paying.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Charge:
    """One release's charge to one member's budget."""

    release_id: int
    epsilon: float
    charged_at: datetime


@dataclass(frozen=True)
class BudgetStatus:
    """A member's budget for a purpose at one instant: spent, remaining, and the charges."""

    member_id: int
    purpose_key: str
    spent: float
    remaining: float
    limit: float
    window_days: int
    charges: list[Charge] = field(default_factory=list)

    def can_pay(self, epsilon: float) -> bool:
        return can_pay(self.remaining, epsilon)


def window_start(at: datetime, window_days: int) -> datetime:
    """The instant after which a charge still counts at `at`."""
    return at - timedelta(days=window_days)


def in_window(charged_at: datetime, *, at: datetime, window_days: int) -> bool:
    """Whether a charge made at `charged_at` still counts at `at` (charges after `at` do not)."""
    return window_start(at, window_days) < charged_at <= at


def spent(epsilons: Iterable[float]) -> float:
    """The total privacy loss of some charges (an exact float sum)."""
    return math.fsum(epsilons)


def remaining(limit: float, spent_so_far: float) -> float:
    """What is left of `limit` after `spent_so_far`; never negative."""
    return max(0.0, limit - spent_so_far)


def can_pay(remaining_budget: float, epsilon: float) -> bool:
    """Whether a budget with `remaining_budget` left can pay a release of `epsilon`."""
    return remaining_budget + TOLERANCE >= epsilon


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
    total = spent(c.epsilon for c in counted)
    return BudgetStatus(
        member_id=member_id,
        purpose_key=purpose.key,
        spent=total,
        remaining=remaining(purpose.budget_epsilon, total),
        limit=purpose.budget_epsilon,
        window_days=purpose.budget_window_days,
        charges=counted,
    )


def budget_status(
    session: Session,
    *,
    member_id: int,
    purpose_key: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> BudgetStatus:
    """A member's budget for `purpose_key` at `at`, with the charges that count against it."""
    purpose = purposes[purpose_key]
    rows = session.execute(
        select(ReleaseCharge.release_id, ReleaseCharge.epsilon, ReleaseCharge.charged_at).where(
            ReleaseCharge.member_id == member_id,
            ReleaseCharge.purpose_key == purpose_key,
            ReleaseCharge.charged_at > window_start(at, purpose.budget_window_days),
            ReleaseCharge.charged_at <= at,
        )
    )
    charges = [Charge(r.release_id, r.epsilon, r.charged_at) for r in rows]
    return status_from_charges(charges, member_id=member_id, purpose=purpose, at=at)


def spent_by_member(
    session: Session, *, workspace_id: int, purpose: Purpose, at: datetime
) -> dict[int, float]:
    """What every member of a workspace with a charge in the window has spent on `purpose`."""
    rows = session.execute(
        select(ReleaseCharge.member_id, ReleaseCharge.epsilon)
        .join(Release, Release.id == ReleaseCharge.release_id)
        .where(
            Release.workspace_id == workspace_id,
            ReleaseCharge.purpose_key == purpose.key,
            ReleaseCharge.charged_at > window_start(at, purpose.budget_window_days),
            ReleaseCharge.charged_at <= at,
        )
    )
    epsilons: dict[int, list[float]] = {}
    for member_id, epsilon in rows:
        epsilons.setdefault(member_id, []).append(epsilon)
    return {member_id: spent(values) for member_id, values in epsilons.items()}


def members_who_can_pay(
    candidates: Iterable[int], spent_so_far: Mapping[int, float], *, purpose: Purpose
) -> set[int]:
    """The candidates whose remaining budget can pay one more release of `purpose`."""
    return {
        member_id
        for member_id in candidates
        if can_pay(
            remaining(purpose.budget_epsilon, spent_so_far.get(member_id, 0.0)), purpose.epsilon
        )
    }
