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
    WorkspacePolicy,
    policy_for_workspace,
    withdrawal,
)
from askfirst.consent.counts import (
    Band,
    answer_counts,
    band_width,
    member_band,
    withhold_small_count,
    withhold_small_counts,
)
from askfirst.store.tables import Member, Release, ReleaseStatus, WithdrawalRecord
from askfirst.training.releases import releases
from askfirst.web.pages.words import purpose_title

RELEASES_SHOWN = 30
MEMBERS_CONTRIBUTING = "members_contributing"


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
    members: Band | None  # a band, never the exact count; None: fewer than the threshold


@dataclass(frozen=True)
class WithdrawalSummary:
    """One purpose's withdrawals as admins see them: how the work stands, never each one.

    Listing each withdrawal would count them, and so give away a withdrawn count that the
    counts table withholds; the figures here follow the same small-count rule.
    """

    title: str
    open: int | None  # being worked on; None: from 1 to threshold - 1
    overdue: bool  # whether any open one is past its deadline: someone must act
    complete: Band | None  # finished, as a band; None: from 1 to threshold - 1


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
            member_band(release.member_count, threshold),
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
    of members reads as its band, or "fewer than k" below `threshold`."""
    figures = []
    for name, value in utility.items():
        words = UTILITY_WORDS.get(name, name.replace("_", " "))
        if name == MEMBERS_CONTRIBUTING:
            band = member_band(int(value), threshold)
            withheld = fewer_than(band_width(threshold))
            figures.append((words, withheld if band is None else str(band)))
        elif isinstance(value, float) and not value.is_integer():
            figures.append((words, f"{value:.3f}"))
        elif isinstance(value, int | float):
            figures.append((words, f"{int(value):,}"))
        else:
            figures.append((words, str(value)))
    return figures


def withdrawal_summaries(
    session: Session,
    workspace_id: int,
    purposes: Mapping[str, Purpose],
    at: datetime,
    threshold: int,
) -> list[WithdrawalSummary]:
    """Each purpose's withdrawals in the workspace: open (small counts withheld), whether any
    is overdue, and how many are complete (a band); purposes nobody withdrew from are left out."""
    ids = session.scalars(
        select(WithdrawalRecord.id)
        .join(Member, Member.id == WithdrawalRecord.member_id)
        .where(Member.workspace_id == workspace_id)
    ).all()
    open_ones: dict[str, int] = {}
    complete: dict[str, int] = {}
    overdue: set[str] = set()
    for withdrawal_id in ids:
        found = withdrawal(session, withdrawal_id)
        key = found.purpose_key
        open_ones.setdefault(key, 0)
        complete.setdefault(key, 0)
        if found.is_open:
            open_ones[key] += 1
        else:
            complete[key] += 1
        if found.status.value == "overdue" or (found.is_open and found.deadline < at):
            overdue.add(key)
    return [
        WithdrawalSummary(
            purpose_title(purposes, key),
            withhold_small_count(open_ones[key], threshold),
            key in overdue,
            member_band(complete[key], threshold),
        )
        for key in sorted(open_ones)
    ]
