"""What the admin console shows for one workspace: policies, answer counts (never who),
releases, withdrawals (never whose), and the journal's verification."""

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
    answer_counts,
    policy_for_workspace,
    withdrawal,
)
from askfirst.store.tables import Member, Release, ReleaseStatus, WithdrawalRecord
from askfirst.training.releases import releases
from askfirst.web.pages.words import purpose_title

RELEASES_SHOWN = 30
WITHDRAWALS_SHOWN = 50


@dataclass(frozen=True)
class PurposeRow:
    """One purpose's switches and answer counts in the admin's workspace."""

    purpose: Purpose
    policy: WorkspacePolicy
    counts: dict[str, int]


@dataclass(frozen=True)
class ReleaseRow:
    release: Release
    title: str
    served: bool
    utility: list[tuple[str, str]]


@dataclass(frozen=True)
class WithdrawalRow:
    """A withdrawal without the member's name: admins see the work, not who asked."""

    withdrawal: Withdrawal
    title: str
    overdue: bool


def purpose_rows(
    session: Session, workspace_id: int, purposes: Mapping[str, Purpose]
) -> list[PurposeRow]:
    return [
        PurposeRow(
            purposes[key],
            policy_for_workspace(session, workspace_id=workspace_id, purpose_key=key),
            answer_counts(session, workspace_id, key),
        )
        for key in sorted(purposes)
    ]


def release_rows(
    session: Session, workspace_id: int, purposes: Mapping[str, Purpose]
) -> list[ReleaseRow]:
    """The workspace's newest releases with their figures; the served one is marked."""
    return [
        ReleaseRow(
            release,
            purpose_title(purposes, release.purpose_key),
            release.status is ReleaseStatus.PROMOTED,
            utility_figures(release.utility),
        )
        for release in releases(session, workspace_id=workspace_id)[:RELEASES_SHOWN]
    ]


def utility_figures(utility: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A release's utility measures as (name in words, value) pairs for a table cell."""
    figures = []
    for name, value in utility.items():
        words = name.replace("_", " ")
        if isinstance(value, float) and not value.is_integer():
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
