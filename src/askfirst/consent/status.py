"""A member's consent as they see it: their answer per purpose, whether it counts, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from askfirst.consent.effective import effective_consent
from askfirst.consent.errors import UnknownMemberError
from askfirst.consent.history import latest_answers
from askfirst.consent.notices import notice, notice_reads
from askfirst.consent.policies import policy_for_workspace
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.store.tables import Answer, AnswerMethod, Member


@dataclass(frozen=True)
class ConsentStatus:
    """One purpose for one member: the answer (None = not asked), and whether it counts."""

    purpose_key: str
    answer: Answer | None
    since: datetime | None
    method: AnswerMethod | None
    notice_version: str | None  # the version the member answered
    current_notice_version: str  # the version they are shown now
    effective: bool
    reason: str


def consent_status(
    session: Session,
    *,
    member_id: int,
    purpose_key: str,
    purposes: Mapping[str, Purpose],
    at: datetime | None = None,
) -> ConsentStatus:
    """A member's consent for one purpose at `at` (now when None), with the reason in words."""
    purpose = find_purpose(purposes, purpose_key)
    member = session.get(Member, member_id)
    if member is None:
        raise UnknownMemberError(f"unknown member id {member_id}; use an existing member's id")
    policy = policy_for_workspace(
        session, workspace_id=member.workspace_id, purpose_key=purpose_key, at=at
    )
    shown = notice(purpose.in_scope(policy.include_private))
    rows = latest_answers(session, at=at, purpose_key=purpose_key, member_id=member_id)
    latest = rows[0] if rows else None
    granted_reads = None
    if latest is not None:
        granted_reads = notice_reads(session, [latest.notice_version]).get(latest.notice_version)
    effective = effective_consent(
        policy.org.allowed,
        policy.workspace.allowed,
        None if latest is None else latest.answer,
        granted_reads,
        shown.reads,
    )
    return ConsentStatus(
        purpose_key=purpose_key,
        answer=None if latest is None else latest.answer,
        since=None if latest is None else latest.answered_at,
        method=None if latest is None else latest.method,
        notice_version=None if latest is None else latest.notice_version,
        current_notice_version=shown.version,
        effective=effective.granted,
        reason=effective.reason,
    )


def current_answers(
    session: Session, member_id: int, purposes: Mapping[str, Purpose]
) -> dict[str, ConsentStatus]:
    """The member's consent for every purpose, keyed by purpose."""
    return {
        key: consent_status(session, member_id=member_id, purpose_key=key, purposes=purposes)
        for key in sorted(purposes)
    }
