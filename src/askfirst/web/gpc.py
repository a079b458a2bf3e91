"""Global Privacy Control: a browser's `Sec-GPC: 1` says no to every optional purpose, once.

For each optional purpose, a signed-in member's request carrying exactly `Sec-GPC: 1` records a
withdrawal (after a yes) or a refusal (when not asked yet) with method `gpc` — unless a GPC
answer is already on record for the notice version the member is shown now. So the signal
applies once per notice version: a member who says yes again explicitly keeps that yes while
the notice stays the same, and a new notice version is refused again. See docs/gpc.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.roles import SignedInMember
from askfirst.clock import Clock
from askfirst.consent import Purpose, consent_status, withdraw
from askfirst.store.tables import Answer, AnswerMethod, ConsentAnswer
from askfirst.web.context import AppContext

GPC_HEADER = "sec-gpc"


def sends_gpc(request: Request) -> bool:
    """Whether the request carries the signal: the header with exactly the value "1"."""
    return request.headers.get(GPC_HEADER) == "1"


def honour_gpc_signal(request: Request, context: AppContext, member: SignedInMember) -> None:
    """Apply the member's GPC signal if the request carries one (a no-op otherwise)."""
    if not sends_gpc(request):
        return
    with context.store.reading() as session:
        pending = purposes_awaiting_gpc(session, member.member_id, context.purposes)
    if not pending:
        return  # the common case once applied: read-only, no write lock taken
    with context.store.transaction() as session:
        record_gpc(session, member.member_id, context.purposes, context.clock)


def record_gpc(
    session: Session, member_id: int, purposes: Mapping[str, Purpose], clock: Clock
) -> list[str]:
    """Say no with method `gpc` to every optional purpose the signal has not yet reached.

    Returns the purposes whose answer changed.
    """
    awaiting = purposes_awaiting_gpc(session, member_id, purposes)
    for key in awaiting:
        withdraw(
            session,
            member_id=member_id,
            purpose_key=key,
            method=AnswerMethod.GPC,
            clock=clock,
            purposes=purposes,
        )
    return awaiting


def purposes_awaiting_gpc(
    session: Session, member_id: int, purposes: Mapping[str, Purpose]
) -> list[str]:
    """Optional purposes whose answer is not already no and which GPC has not yet reached
    at the notice version shown now."""
    awaiting = []
    for key in sorted(purposes):
        if not purposes[key].optional:
            continue
        status = consent_status(session, member_id=member_id, purpose_key=key, purposes=purposes)
        if status.answer in (Answer.WITHDRAWN, Answer.REFUSED):
            continue
        if not _gpc_reached(session, member_id, key, status.current_notice_version):
            awaiting.append(key)
    return awaiting


def _gpc_reached(session: Session, member_id: int, purpose_key: str, version: str) -> bool:
    query = select(ConsentAnswer.id).where(
        ConsentAnswer.member_id == member_id,
        ConsentAnswer.purpose_key == purpose_key,
        ConsentAnswer.method == AnswerMethod.GPC,
        ConsentAnswer.notice_version == version,
    )
    return session.scalars(query.limit(1)).first() is not None
