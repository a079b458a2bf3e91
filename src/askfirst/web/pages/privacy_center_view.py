"""What a member's privacy center shows: each purpose with its notice, answer and budget, the
releases and journal entries about them, and their withdrawals. Their own data only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.consent import (
    Answer,
    ConsentStatus,
    Notice,
    Purpose,
    Withdrawal,
    consent_status,
    current_notice,
    policy_for_workspace,
    withdrawals_for_member,
)
from askfirst.consent.notices import category_words, duration_words
from askfirst.journal import entries, entries_about_member
from askfirst.store.tables import Member, Release, SnapshotMember
from askfirst.training.budgets import budget_status
from askfirst.web.pages.budget_chart import BudgetChart, budget_chart
from askfirst.web.pages.words import (
    STATUS_WORDS,
    delta_words,
    epsilon_figure,
    how_answered,
    purpose_title,
)

ANSWER_WORDS = {
    Answer.GRANTED: "you said yes",
    Answer.WITHDRAWN: "you withdrew",
    Answer.REFUSED: "you said no",
    None: "not asked yet",
}
JOURNAL_ANSWERS = {
    Answer.GRANTED.value: "You said yes to",
    Answer.WITHDRAWN.value: "You withdrew from",
    Answer.REFUSED.value: "You said no to",
}
TIMELINE_LENGTH = 40


@dataclass(frozen=True)
class PurposeCard:
    """One purpose as the member sees it, with the one switch that grants or withdraws."""

    purpose: Purpose
    notice: Notice
    reads: list[str]
    deadline: str
    status: ConsentStatus
    answer: str
    switched_on: bool  # the member's yes to the notice shown now
    blocked: str | None  # why saying yes cannot be given now (a policy); None when it can
    chart: BudgetChart
    spent: float
    remaining: float
    planned: float


class ReleaseState(StrEnum):
    """Where a release that contains the member stands now, as the timeline says it."""

    SERVED = "served"
    REPLACED = "replaced"  # a newer release was promoted in its place
    RETIRED = "retired"  # no longer served, with nothing promoted in its place
    NOT_SERVED = "not_served"  # never promoted


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened to the member's data, newest first on the page."""

    at: datetime
    text: str
    journal_seq: int | None
    release_id: int | None = None  # set on the events of releases that contain the member
    release_state: ReleaseState | None = None


def purpose_cards(
    session: Session, member: Member, purposes: Mapping[str, Purpose], at: datetime
) -> list[PurposeCard]:
    """Every purpose with its notice, the member's answer, and their budget."""
    return [_card(session, member, purposes, key, at) for key in sorted(purposes)]


def _card(
    session: Session, member: Member, purposes: Mapping[str, Purpose], key: str, at: datetime
) -> PurposeCard:
    purpose = purposes[key]
    status = consent_status(session, member_id=member.id, purpose_key=key, purposes=purposes)
    shown = current_notice(session, workspace_id=member.workspace_id, purpose=purpose, at=at)
    policy = policy_for_workspace(session, workspace_id=member.workspace_id, purpose_key=key)
    switched_on = status.answer is Answer.GRANTED and (
        status.notice_version == status.current_notice_version
    )
    budget = budget_status(session, member_id=member.id, purpose_key=key, at=at, purposes=purposes)
    return PurposeCard(
        purpose=purpose,
        notice=shown,
        reads=[category_words(category) for category in sorted(shown.reads)],
        deadline=duration_words(purpose.withdrawal_deadline),
        status=status,
        answer=ANSWER_WORDS[status.answer],
        switched_on=switched_on,
        blocked=_blocked_reason(policy.org.allowed, policy.workspace.allowed, switched_on),
        chart=budget_chart(budget, purpose),
        spent=budget.spent,
        remaining=budget.remaining,
        planned=budget.planned,
    )


def _blocked_reason(org_allows: bool, workspace_allows: bool, switched_on: bool) -> str | None:
    if switched_on:
        return None  # a yes can always be taken back
    if not org_allows:
        return "your organisation has switched this purpose off, so it cannot be turned on"
    if not workspace_allows:
        return "your workspace admin has switched this purpose off, so it cannot be turned on"
    return None


def my_withdrawals(session: Session, member_id: int) -> list[Withdrawal]:
    """The member's withdrawals, newest first."""
    return list(reversed(withdrawals_for_member(session, member_id)))


def timeline(
    session: Session, member: Member, purposes: Mapping[str, Purpose]
) -> list[TimelineEvent]:
    """Releases that contain the member and the journal entries about them, newest first."""
    events = _release_events(session, member, purposes)
    events += _journal_events(session, member.id, purposes)
    # Newest first, within one minute too: the journal's order breaks ties of time.
    events.sort(key=lambda event: (event.at, event.journal_seq or 0), reverse=True)
    return events[:TIMELINE_LENGTH]


def _release_events(
    session: Session, member: Member, purposes: Mapping[str, Purpose]
) -> list[TimelineEvent]:
    # Releases whose snapshot lists the member: a release derived by a withdrawal charges the
    # member who left, but holds the data of those who stayed.
    query = (
        select(Release)
        .join(SnapshotMember, SnapshotMember.snapshot_id == Release.snapshot_id)
        .where(SnapshotMember.member_id == member.id)
    )
    mine = list(session.scalars(query))
    created = {
        entry.payload.get("release_id"): entry.seq
        for entry in entries(session, kind="release.created", workspace_id=member.workspace_id)
    }
    successors = _successors(session, member.workspace_id, mine)
    events = []
    for release in mine:
        state, words = _release_state(release, successors.get(release.id))
        text = (
            f"Your data was used in release {release.id} of "
            f"{purpose_title(purposes, release.purpose_key)} (ε {epsilon_figure(release.epsilon)}, "
            f"δ {delta_words(release.delta)}); {words}"
        )
        events.append(
            TimelineEvent(release.created_at, text, created.get(release.id), release.id, state)
        )
    return events


def _successors(session: Session, workspace_id: int, mine: list[Release]) -> dict[int, int]:
    """For each retired release of `mine`, the release promoted in its place, if one was.

    Promoting a release retires the one it replaces at the same instant (releases.promote).
    """
    retired = {r.id: r for r in mine if r.retired_at is not None and r.promoted_at is not None}
    if not retired:
        return {}
    query = select(Release.id, Release.purpose_key, Release.promoted_at).where(
        Release.workspace_id == workspace_id,
        Release.promoted_at.in_(sorted({r.retired_at for r in retired.values() if r.retired_at})),
    )
    promoted_at = {(row.purpose_key, row.promoted_at): row.id for row in session.execute(query)}
    found = {
        release.id: promoted_at.get((release.purpose_key, release.retired_at))
        for release in retired.values()
    }
    return {old: new for old, new in found.items() if new is not None and new != old}


def _release_state(release: Release, successor: int | None) -> tuple[ReleaseState, str]:
    if release.retired_at is None:
        if release.promoted_at is not None:
            return ReleaseState.SERVED, "served now"
        return ReleaseState.NOT_SERVED, "not served"
    if release.promoted_at is None:
        return ReleaseState.NOT_SERVED, "never served"
    since = f"no longer served since {release.retired_at:%Y-%m-%d %H:%M} UTC"
    if successor is not None:
        return ReleaseState.REPLACED, f"{since}: replaced by release {successor}"
    why = f": {release.status_detail}" if release.status_detail else ""
    return ReleaseState.RETIRED, since + why


def _journal_events(
    session: Session, member_id: int, purposes: Mapping[str, Purpose]
) -> list[TimelineEvent]:
    events = []
    for entry in entries_about_member(session, member_id):
        payload = entry.payload
        if entry.kind == "consent.changed":
            said = JOURNAL_ANSWERS.get(str(payload.get("answer")), str(payload.get("answer")))
            title = purpose_title(purposes, str(payload.get("purpose")))
            text = f"{said} {title} {how_answered(payload.get('method'))}"
        elif entry.kind == "withdrawal.status":
            word = STATUS_WORDS.get(str(payload.get("to")), str(payload.get("to")))
            text = f"Withdrawal {payload.get('withdrawal_id')}: {word} — {payload.get('detail')}"
        elif entry.kind == "budget.charged":
            title = purpose_title(purposes, str(payload.get("purpose")))
            text = (
                f"Taking your data out of {title} (release {payload.get('release_id')}) cost "
                f"ε {epsilon_figure(float(payload.get('epsilon', 0.0)))} of your budget; "
                "nobody else's"
            )
        elif entry.kind in ("personal_model.built", "personal_model.deleted"):
            title = purpose_title(purposes, str(payload.get("purpose")))
            text = (
                f"{title}: your own model was built from {payload.get('messages')} of your "
                "messages (only you see it)"
                if entry.kind.endswith("built")
                else f"{title}: your own model was deleted"
            )
        elif entry.kind == "member.erased":
            text = (
                f"Your data was erased {how_answered(payload.get('method'))}: "
                f"{payload.get('messages')} "
                f"messages, {payload.get('reactions')} reactions and {payload.get('files')} file "
                "records deleted; every purpose withdrawn"
            )
        elif entry.kind == "matrix.redacted":
            text = _redaction_words(payload.get("removed"))
        else:
            text = entry.kind
        events.append(TimelineEvent(entry.at, text, entry.seq))
    return events


def _redaction_words(removed: object) -> str:
    """A Matrix redaction of the member's message or reaction, as the journal recorded it."""
    counts = removed if isinstance(removed, dict) else {}
    if "messages" not in counts:
        return "Your reaction was redacted in Matrix and deleted here too"
    return (
        "Your message was redacted in Matrix and deleted here too, with "
        f"{counts.get('reactions', 0)} reactions and {counts.get('files', 0)} file records"
    )
