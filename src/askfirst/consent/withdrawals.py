"""Withdrawals: the tracked work of getting a member's data out of every served release.

A withdrawal moves through one transition table, defined here and nowhere else:

    received -> excluded_from_new_training -> served_releases_replaced -> complete

and to `overdue` when its deadline passes before it is complete. An overdue withdrawal can
still be finished (marked late). Every transition is a `withdrawal.status` journal entry and a
step the member can watch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.errors import IllegalTransitionError, UnknownWithdrawalError
from askfirst.consent.purposes import Purpose
from askfirst.journal import append
from askfirst.store.tables import Member, WithdrawalRecord, WithdrawalStatus, WithdrawalStep

S = WithdrawalStatus
TRANSITIONS: dict[WithdrawalStatus, frozenset[WithdrawalStatus]] = {
    S.RECEIVED: frozenset({S.EXCLUDED_FROM_NEW_TRAINING, S.OVERDUE}),
    S.EXCLUDED_FROM_NEW_TRAINING: frozenset({S.SERVED_RELEASES_REPLACED, S.OVERDUE}),
    S.SERVED_RELEASES_REPLACED: frozenset({S.COMPLETE, S.OVERDUE}),
    S.OVERDUE: frozenset({S.SERVED_RELEASES_REPLACED, S.COMPLETE}),
    S.COMPLETE: frozenset(),
}
OPEN_STATUSES = frozenset(status for status, onward in TRANSITIONS.items() if onward)
# Reaching these after the deadline marks the withdrawal late.
FINISHING = frozenset({S.SERVED_RELEASES_REPLACED, S.COMPLETE})


@dataclass(frozen=True)
class Step:
    """One transition of a withdrawal (the first one has no `from_status`)."""

    from_status: WithdrawalStatus | None
    to_status: WithdrawalStatus
    at: datetime
    detail: str


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal as the member and the trainer see it: status, deadline and every step."""

    id: int
    member_id: int
    purpose_key: str
    received_at: datetime
    deadline: datetime
    status: WithdrawalStatus
    status_at: datetime
    late: bool
    steps: tuple[Step, ...]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def open_withdrawal(
    session: Session, *, member_id: int, purpose: Purpose, answer_id: int, at: datetime
) -> Withdrawal:
    """Open a withdrawal as received and exclude the member from new training at once.

    Exclusion is immediate because the gate reads consent at every snapshot; both steps are
    journaled in the caller's transaction.
    """
    record = WithdrawalRecord(
        member_id=member_id,
        purpose_key=purpose.key,
        answer_id=answer_id,
        received_at=at,
        deadline=at + purpose.withdrawal_deadline,
        status=S.RECEIVED,
        status_at=at,
        late=False,
    )
    session.add(record)
    session.flush()
    _step(session, record, None, "withdrawal received", at)
    _move(session, record, S.EXCLUDED_FROM_NEW_TRAINING, "no new snapshot includes you", at)
    return _view(session, record)


def advance(
    session: Session,
    withdrawal_id: int,
    to: WithdrawalStatus,
    *,
    clock: Clock,
    detail: str = "",
) -> Withdrawal:
    """Move a withdrawal to `to`, if the transition table allows it; journaled."""
    to = WithdrawalStatus(to)
    record = _record(session, withdrawal_id)
    at = clock.now()
    if to not in TRANSITIONS[record.status]:
        allowed = ", ".join(sorted(TRANSITIONS[record.status])) or "none (it is finished)"
        raise IllegalTransitionError(
            f"withdrawal {withdrawal_id} cannot go from {record.status} to {to}; "
            f"allowed next: {allowed}"
        )
    if to == S.OVERDUE and at <= record.deadline:
        raise IllegalTransitionError(
            f"withdrawal {withdrawal_id} is not overdue before its deadline "
            f"{record.deadline.isoformat()}; use mark_overdue after it passes"
        )
    _move(session, record, to, detail, at)
    return _view(session, record)


def mark_overdue(session: Session, *, clock: Clock) -> list[Withdrawal]:
    """Move every open withdrawal whose deadline has passed to overdue; returns them."""
    at = clock.now()
    query = select(WithdrawalRecord).where(
        WithdrawalRecord.status.in_(OPEN_STATUSES - {S.OVERDUE}),
        WithdrawalRecord.deadline < at,
    )
    moved = []
    for record in session.scalars(query.order_by(WithdrawalRecord.id)).all():
        _move(session, record, S.OVERDUE, "the deadline passed before the work was complete", at)
        moved.append(record)
    return _views(session, moved)


def withdrawal(session: Session, withdrawal_id: int) -> Withdrawal:
    """One withdrawal with its steps."""
    return _view(session, _record(session, withdrawal_id))


def withdrawals_for_member(session: Session, member_id: int) -> list[Withdrawal]:
    """Every withdrawal of a member, oldest first."""
    query = select(WithdrawalRecord).where(WithdrawalRecord.member_id == member_id)
    records = session.scalars(query.order_by(WithdrawalRecord.id)).all()
    return _views(session, records)


def open_withdrawals(session: Session, workspace_id: int | None = None) -> list[Withdrawal]:
    """Withdrawals not yet complete (in one workspace, or all), oldest first."""
    query = select(WithdrawalRecord).where(WithdrawalRecord.status.in_(OPEN_STATUSES))
    if workspace_id is not None:
        query = query.join(Member, Member.id == WithdrawalRecord.member_id).where(
            Member.workspace_id == workspace_id
        )
    records = session.scalars(query.order_by(WithdrawalRecord.id)).all()
    return _views(session, records)


def _move(
    session: Session,
    record: WithdrawalRecord,
    to: WithdrawalStatus,
    detail: str,
    at: datetime,
) -> None:
    before = record.status
    if to in FINISHING and (before == S.OVERDUE or at > record.deadline):
        record.late = True
    record.status = to
    record.status_at = at
    _step(session, record, before, detail, at)


def _step(
    session: Session,
    record: WithdrawalRecord,
    before: WithdrawalStatus | None,
    detail: str,
    at: datetime,
) -> None:
    session.add(
        WithdrawalStep(
            withdrawal_id=record.id,
            from_status=before,
            to_status=record.status,
            at=at,
            detail=detail,
        )
    )
    session.flush()
    workspace_id = session.scalar(select(Member.workspace_id).where(Member.id == record.member_id))
    payload = {
        "withdrawal_id": record.id,
        "purpose": record.purpose_key,
        "from": None if before is None else before.value,
        "to": record.status.value,
        "deadline": record.deadline.isoformat(),
        "late": record.late,
        "detail": detail,
    }
    append(
        session,
        "withdrawal.status",
        payload,
        at=at,
        workspace_id=workspace_id,
        member_id=record.member_id,
    )


def _record(session: Session, withdrawal_id: int) -> WithdrawalRecord:
    record = session.get(WithdrawalRecord, withdrawal_id)
    if record is None:
        raise UnknownWithdrawalError(
            f"unknown withdrawal id {withdrawal_id}; list the member's withdrawals to find it"
        )
    return record


def _view(session: Session, record: WithdrawalRecord) -> Withdrawal:
    return _views(session, [record])[0]


def _views(session: Session, records: Sequence[WithdrawalRecord]) -> list[Withdrawal]:
    """The withdrawals with their steps, loaded in one query."""
    steps: dict[int, list[Step]] = {record.id: [] for record in records}
    query = select(WithdrawalStep).where(WithdrawalStep.withdrawal_id.in_(steps))
    for step in session.scalars(query.order_by(WithdrawalStep.id)):
        steps[step.withdrawal_id].append(
            Step(step.from_status, step.to_status, step.at, step.detail)
        )
    return [
        Withdrawal(
            id=record.id,
            member_id=record.member_id,
            purpose_key=record.purpose_key,
            received_at=record.received_at,
            deadline=record.deadline,
            status=record.status,
            status_at=record.status_at,
            late=record.late,
            steps=tuple(steps[record.id]),
        )
        for record in records
    ]
