"""What the admin console shows for one workspace: policies, answer counts (never who, small
ones withheld), releases, withdrawals (never whose), and the journal's verification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent import (
    Purpose,
    Withdrawal,
    WorkspacePolicy,
    policy_for_workspace,
    withdrawal,
)
from askfirst.consent.counts import answer_counts, withhold_small_count, withhold_small_counts
from askfirst.store.tables import Member, Release, ReleaseStatus, WithdrawalRecord
from askfirst.training.releases import releases
from askfirst.web.pages.words import purpose_title

RELEASES_SHOWN = 30
MEMBERS_CONTRIBUTING = "members_contributing"
WITHDRAWALS_SHOWN = 50


@dataclass(frozen=True)
class PurposeRow:
    """One purpose's switches and answer counts in the admin's workspace (None: withheld)."""

    purpose: Purpose
    policy: WorkspacePolicy
    counts: dict[str, int | None]

    @property
    def withheld(self) -> bool:
        return None in self.counts.values()


@dataclass(frozen=True)
class ReleaseRow:
    release: Release
    title: str
    served: bool
    utility: list[tuple[str, str]]
    members: int | None  # None: fewer than the small-count threshold


@dataclass(frozen=True)
class WithdrawalRow:
    """A withdrawal without the member's name: admins see the work, not who asked."""

    withdrawal: Withdrawal
    title: str
    overdue: bool


def purpose_rows(
    session: Session, workspace_id: int, purposes: Mapping[str, Purpose], threshold: int
) -> list[PurposeRow]:
    """Each purpose's policy and answer counts, counts below `threshold` withheld."""
    return [
        PurposeRow(
            purposes[key],
            policy_for_workspace(session, workspace_id=workspace_id, purpose_key=key),
            withhold_small_counts(answer_counts(session, workspace_id, key), threshold),
        )
        for key in sorted(purposes)
    ]


def release_rows(
    session: Session, workspace_id: int, purposes: Mapping[str, Purpose], threshold: int
) -> list[ReleaseRow]:
    """The workspace's newest releases with their figures; the served one is marked."""
    return [
        ReleaseRow(
            release,
            purpose_title(purposes, release.purpose_key),
            release.status is ReleaseStatus.PROMOTED,
            utility_figures(release.utility, threshold),
            withhold_small_count(release.member_count, threshold),
        )
        for release in releases(session, workspace_id=workspace_id)[:RELEASES_SHOWN]
    ]


def fewer_than(threshold: int) -> str:
    """How a withheld count of members reads."""
    return f"fewer than {threshold}"


# What a release's utility figures are called on the page (others: their key, spaced).
UTILITY_WORDS = {
    "top3_accuracy_holdout": "top-3 accuracy, learned",
    "top3_accuracy_prior_only": "top-3 accuracy, prior alone",
    "hit_rate_at5_holdout": "hit rate at 5, learned",
    "hit_rate_at5_popularity_only": "hit rate at 5, popularity alone",
    "holdout_examples": "held-out examples (noisy)",
    "utility_noise_scale": "noise scale",
}


def utility_figures(utility: Mapping[str, Any], threshold: int) -> list[tuple[str, str]]:
    """A release's utility measures as (name in words, value) pairs for a table cell; a count
    of members below `threshold` reads "fewer than k"."""
    figures = []
    for name, value in utility.items():
        words = UTILITY_WORDS.get(name, name.replace("_", " "))
        if name == MEMBERS_CONTRIBUTING and withhold_small_count(int(value), threshold) is None:
            figures.append((words, fewer_than(threshold)))
        elif isinstance(value, float) and not value.is_integer():
            figures.append((words, f"{value:.3f}"))
        elif isinstance(value, int | float):
            figures.append((words, f"{int(value):,}"))
        else:
            figures.append((words, str(value)))
    return figures


def withdrawal_rows(
    session: Session, workspace_id: int, purposes: Mapping[str, Purpose], at: datetime
) -> list[WithdrawalRow]:
    """The workspace's newest withdrawals; open ones past their deadline are overdue."""
    ids = session.scalars(
        select(WithdrawalRecord.id)
        .join(Member, Member.id == WithdrawalRecord.member_id)
        .where(Member.workspace_id == workspace_id)
        .order_by(WithdrawalRecord.id.desc())
        .limit(WITHDRAWALS_SHOWN)
    ).all()
    rows = []
    for withdrawal_id in ids:
        found = withdrawal(session, withdrawal_id)
        overdue = found.status.value == "overdue" or (found.is_open and found.deadline < at)
        rows.append(WithdrawalRow(found, purpose_title(purposes, found.purpose_key), overdue))
    return rows
