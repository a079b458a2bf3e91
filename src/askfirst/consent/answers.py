"""Answers: a member saying yes or no to a purpose, in one call either way.

Every answer is a new row (the history is never rewritten) and a `consent.changed` journal
entry in the caller's transaction. Only the member can say yes: a grant from an admin policy,
or from anyone acting for another member, is refused. Saying no is the same single call as
saying yes; after a yes it also opens a withdrawal, so the member's data leaves the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.errors import (
    ConsentError,
    GrantRefusedError,
    StaleNoticeError,
    UnknownMemberError,
)
from askfirst.consent.history import LatestAnswer, latest_answers
from askfirst.consent.notices import Notice, current_notice, record_notice
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.consent.withdrawals import Withdrawal, open_withdrawal
from askfirst.journal import append
from askfirst.store.tables import Answer, AnswerMethod, ConsentAnswer, Member

# Methods by which the member answers in person; the actor is then the member themselves.
# A Matrix answer is in person too: the homeserver vouches that the member sent it.
IN_PERSON = frozenset({AnswerMethod.PAGE, AnswerMethod.API, AnswerMethod.GPC, AnswerMethod.MATRIX})


@dataclass(frozen=True)
class ConsentChange:
    """The outcome of an answer: what it is now, what it was, and whether anything changed."""

    member_id: int
    purpose_key: str
    answer: Answer
    previous: Answer | None
    at: datetime
    method: AnswerMethod
    notice_version: str
    changed: bool


def grant(
    session: Session,
    *,
    member_id: int,
    purpose_key: str,
    method: AnswerMethod | str,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    notice_version: str | None = None,
    actor_member_id: int | None = None,
) -> ConsentChange:
    """Record the member's yes to the notice they are shown now.

    `notice_version`, when given, is the version the member read; if the notice changed since,
    the grant is refused as stale. Granting what is already granted records nothing.
    """
    method = _method(method)
    _refuse_grant_not_by_member(member_id, method, actor_member_id)
    purpose = find_purpose(purposes, purpose_key)
    member = _member(session, member_id)
    at = clock.now()
    shown = current_notice(session, workspace_id=member.workspace_id, purpose=purpose, at=at)
    if notice_version is not None and notice_version != shown.version:
        raise StaleNoticeError(
            f"notice version {notice_version} of {purpose_key!r} is no longer the one shown "
            f"(now {shown.version}); read the current notice and answer again"
        )
    previous = _current(session, member_id, purpose_key)
    if previous is not None and _grants(previous, shown):
        return _change(previous, previous.answer, changed=False)
    before = None if previous is None else previous.answer
    row = _record(
        session, member, purpose_key, (before, Answer.GRANTED), method, at, shown, actor_member_id
    )
    return _change(row, before, changed=True)


def withdraw(
    session: Session,
    *,
    member_id: int,
    purpose_key: str,
    method: AnswerMethod | str,
    clock: Clock,
    purposes: Mapping[str, Purpose],
    actor_member_id: int | None = None,
) -> Withdrawal | None:
    """Record the member's no: a withdrawal after a yes, a refusal when never asked.

    After a yes it opens a withdrawal (returned) that excludes the member from new training at
    once. Saying no again when the answer is already no records nothing.
    """
    method = _method(method)
    purpose = find_purpose(purposes, purpose_key)
    member = _member(session, member_id)
    previous = _current(session, member_id, purpose_key)
    if previous is not None and previous.answer != Answer.GRANTED:
        return None
    at = clock.now()
    shown = current_notice(session, workspace_id=member.workspace_id, purpose=purpose, at=at)
    answer = Answer.REFUSED if previous is None else Answer.WITHDRAWN
    before = None if previous is None else previous.answer
    row = _record(
        session, member, purpose_key, (before, answer), method, at, shown, actor_member_id
    )
    if previous is None:
        return None
    return open_withdrawal(session, member_id=member_id, purpose=purpose, answer_id=row.id, at=at)


def _method(value: AnswerMethod | str) -> AnswerMethod:
    try:
        return AnswerMethod(value)
    except ValueError:
        known = ", ".join(method.value for method in AnswerMethod)
        raise ConsentError(f"unknown answer method {value!r}; use one of: {known}") from None


def _refuse_grant_not_by_member(
    member_id: int, method: AnswerMethod, actor_member_id: int | None
) -> None:
    if method == AnswerMethod.ADMIN_POLICY:
        raise GrantRefusedError(
            "a grant cannot come from an admin policy: policies only restrict; "
            "the member says yes on the consent page or through the API"
        )
    if method == AnswerMethod.GPC:
        raise GrantRefusedError("a Global Privacy Control signal only ever says no, never yes")
    if actor_member_id is not None and actor_member_id != member_id:
        raise GrantRefusedError(
            f"member {actor_member_id} cannot say yes for member {member_id}; "
            "only the member can grant their own consent"
        )


def _record(
    session: Session,
    member: Member,
    purpose_key: str,
    change: tuple[Answer | None, Answer],
    method: AnswerMethod,
    at: datetime,
    shown: Notice,
    actor_member_id: int | None,
) -> ConsentAnswer:
    """Append one answer (`change` is previous and new) and its journal entry."""
    previous, answer = change
    if actor_member_id is None and method in IN_PERSON:
        actor_member_id = member.id
    record_notice(session, shown, at=at)
    row = ConsentAnswer(
        member_id=member.id,
        purpose_key=purpose_key,
        answer=answer,
        answered_at=at,
        method=method,
        notice_version=shown.version,
        actor_member_id=actor_member_id,
    )
    session.add(row)
    session.flush()
    payload = {
        "purpose": purpose_key,
        "answer": answer.value,
        "previous": None if previous is None else previous.value,
        "method": method.value,
        "notice_version": shown.version,
        "actor_member_id": actor_member_id,
    }
    append(
        session,
        "consent.changed",
        payload,
        at=at,
        workspace_id=member.workspace_id,
        member_id=member.id,
    )
    return row


def _grants(row: LatestAnswer, shown: Notice) -> bool:
    return row.answer == Answer.GRANTED and row.notice_version == shown.version


def _current(session: Session, member_id: int, purpose_key: str) -> LatestAnswer | None:
    rows = latest_answers(session, member_id=member_id, purpose_key=purpose_key)
    return rows[0] if rows else None


def _member(session: Session, member_id: int) -> Member:
    # Locking the member's row serializes their answers on PostgreSQL (SQLite's writers queue
    # already), so two simultaneous "no"s cannot both see the "yes" and open two withdrawals.
    member = session.get(Member, member_id, with_for_update=True)
    if member is None:
        raise UnknownMemberError(f"unknown member id {member_id}; use an existing member's id")
    return member


def _change(
    row: ConsentAnswer | LatestAnswer, previous: Answer | None, *, changed: bool
) -> ConsentChange:
    return ConsentChange(
        member_id=row.member_id,
        purpose_key=row.purpose_key,
        answer=row.answer,
        previous=previous,
        at=row.answered_at,
        method=row.method,
        notice_version=row.notice_version,
        changed=changed,
    )
