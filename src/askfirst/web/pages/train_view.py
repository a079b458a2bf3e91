"""What the console says around "train now": what one release costs each member, how many
members are near their budget (as ranges, never exact), when a purpose may be trained again,
and, for a purpose that serves nothing, why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from askfirst.consent import Purpose, policy_for_workspace
from askfirst.consent.counts import answer_counts, band_width, member_band, withhold_small_counts
from askfirst.store.tables import Answer, Release, ReleaseStatus
from askfirst.training.budgets import can_pay, remaining, spent_by_member
from askfirst.training.cooldown import cooldown_ends
from askfirst.training.fitters import FITTERS
from askfirst.training.forbidden import forbidding_scopes
from askfirst.training.releases import releases, served
from askfirst.web.pages.admin_view import fewer_than

# What a retired release's detail starts with when reconcile took it down for a withdrawal.
WITHDRAWN_OUT = "withdrawn members could not be retrained out"


@dataclass(frozen=True)
class TrainingCost:
    """What one more release of a purpose costs, as the console states it before the click."""

    purpose: Purpose
    epsilon: float  # charged to each member in the release
    releases_in_window: int  # how many such releases the budget is planned for
    out_of_budget: str  # members left out for want of budget, as a range
    last_release: str  # members for whom this is the last release they can join, as a range
    cooldown_until: datetime | None  # None: may be trained now


@dataclass(frozen=True)
class ServingState:
    """Which release a purpose serves, or why it serves nothing."""

    purpose: Purpose
    release_id: int | None
    why_nothing: str | None


def trainable(purposes: Mapping[str, Purpose]) -> list[str]:
    """The purposes "train now" can train (personal purposes make no release)."""
    return sorted(set(purposes) & set(FITTERS))


def members_in_words(count: int, threshold: int) -> str:
    """A count of members as the console shows it: "none", or a range, or "fewer than k"."""
    if count == 0:
        return "none"
    band = member_band(count, threshold)
    return fewer_than(band_width(threshold)) if band is None else str(band)


def training_cost(
    session: Session,
    workspace_id: int,
    purpose: Purpose,
    *,
    at: datetime,
    threshold: int,
    cooldown: timedelta,
) -> TrainingCost:
    """The cost of one more release of `purpose` in the workspace at `at`."""
    plan = purpose.plan
    spent = spent_by_member(session, workspace_id=workspace_id, purpose=purpose, at=at)
    out = [
        s for s in spent.values() if not can_pay(remaining(plan.rho_budget, s), plan.rho_admission)
    ]
    last = [
        s
        for s in spent.values()
        if can_pay(remaining(plan.rho_budget, s), plan.rho_admission)
        and not can_pay(remaining(plan.rho_budget, s + plan.rho_release), plan.rho_admission)
    ]
    return TrainingCost(
        purpose,
        plan.epsilon_release,
        plan.releases,
        members_in_words(len(out), threshold),
        members_in_words(len(last), threshold),
        cooldown_ends(session, workspace_id, purpose.key, at=at, cooldown=cooldown),
    )


def serving_state(
    session: Session, workspace_id: int, purpose: Purpose, *, threshold: int
) -> ServingState:
    """The purpose's served release, or the plain reason it serves nothing."""
    policy = policy_for_workspace(session, workspace_id=workspace_id, purpose_key=purpose.key)
    scopes = forbidding_scopes(policy)
    if scopes is not None:
        why = f"forbidden by the {scopes} policy; nothing trained for it is used"
        return ServingState(purpose, None, why)
    current = served(session, workspace_id=workspace_id, purpose_key=purpose.key)
    if current is not None:
        return ServingState(purpose, current.id, None)
    made = releases(session, workspace_id=workspace_id, purpose_key=purpose.key)
    return ServingState(
        purpose, None, _why_nothing(session, workspace_id, purpose, made, threshold)
    )


def _why_nothing(
    session: Session, workspace_id: int, purpose: Purpose, made: list[Release], threshold: int
) -> str:
    if not made:
        counts = answer_counts(session, workspace_id, purpose.key)
        granted = withhold_small_counts(counts, threshold)[Answer.GRANTED.value]
        if granted == 0:
            return "no member has said yes yet, so there is nothing to train on"
        return 'no release yet: press "Train now"'
    newest = made[0]
    assert newest.status is ReleaseStatus.RETIRED  # else it would be served
    detail = newest.status_detail
    if detail.startswith(WITHDRAWN_OUT):
        return (
            f"release {newest.id} was retired after a withdrawal and none has been trained "
            'since: press "Train now"'
        )
    if detail.startswith("purpose forbidden"):
        return f'release {newest.id} was retired while the purpose was forbidden: press "Train now"'
    if detail.startswith("not promoted"):
        return f"the last release ({newest.id}) was not served: {detail.split(': ', 1)[-1]}"
    return f"release {newest.id} was retired ({detail})"
