"""The consent gate: which members' data a purpose may use in a workspace at a moment.

The trainer reads the store only through here, with `members_for_training`, which first checks
the consent rows against the journal (askfirst/consent/agreement.py). A member counts iff, at
the snapshot's watermark `at`, `effective_consent` says so for their latest answer at or before
`at` and the policies in force at `at`. Answers and policy changes after `at` do not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from askfirst.consent.agreement import refuse_state_unlike_journal
from askfirst.consent.effective import effective_consent
from askfirst.consent.history import latest_answers
from askfirst.consent.notices import notice, notice_reads
from askfirst.consent.policies import policy_for_workspace
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.store.tables import Answer, ChannelKind


def members_with_effective_consent(
    session: Session,
    *,
    workspace_id: int,
    purpose_key: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
    member_id: int | None = None,
) -> set[int]:
    """Ids of the workspace's members whose effective consent for the purpose holds at `at`
    (with `member_id`, of that one member only: an empty set or just them)."""
    purpose = find_purpose(purposes, purpose_key)
    policy = policy_for_workspace(
        session, workspace_id=workspace_id, purpose_key=purpose_key, at=at
    )
    current_reads = notice(purpose.in_scope(policy.include_private)).reads
    answers = latest_answers(
        session, at=at, purpose_key=purpose_key, workspace_id=workspace_id, member_id=member_id
    )
    granted = {row.notice_version for row in answers if row.answer == Answer.GRANTED}
    reads = notice_reads(session, granted)
    # Policies are the same for every member here, so the verdict depends only on the answer
    # and the version answered: decide each distinct pair once.
    verdicts: dict[tuple[Answer, str], bool] = {}
    consenting = set()
    for row in answers:
        key = (row.answer, row.notice_version)
        if key not in verdicts:
            verdicts[key] = effective_consent(
                policy.org.allowed,
                policy.workspace.allowed,
                row.answer,
                reads.get(row.notice_version),
                current_reads,
            ).granted
        if verdicts[key]:
            consenting.add(row.member_id)
    return consenting


def members_for_training(
    session: Session,
    *,
    workspace_id: int,
    purpose_key: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
    member_id: int | None = None,
) -> set[int]:
    """The members whose data training may use, as `members_with_effective_consent`, once the
    consent state it reads is the one the journal records (else ConsentStateError names who).

    `member_id` checks and decides that one member's answers only (and the policies), for
    training that reads one member's data: a personal model.
    """
    refuse_state_unlike_journal(
        session, workspace_id=workspace_id, purpose_key=purpose_key, member_id=member_id
    )
    return members_with_effective_consent(
        session,
        workspace_id=workspace_id,
        purpose_key=purpose_key,
        at=at,
        purposes=purposes,
        member_id=member_id,
    )


def eligible_channel_kinds(
    session: Session, *, workspace_id: int, purpose_key: str, at: datetime
) -> frozenset[ChannelKind]:
    """The kinds of conversation a purpose may read at `at`: public only, unless both policies
    include private channels and direct messages; none when the purpose is switched off."""
    policy = policy_for_workspace(
        session, workspace_id=workspace_id, purpose_key=purpose_key, at=at
    )
    if not policy.allowed:
        return frozenset()
    if policy.include_private:
        return frozenset(ChannelKind)
    return frozenset({ChannelKind.PUBLIC})
