"""Consent over the API: the purposes anyone may read, and a member's own answers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from askfirst.accounts.roles import Credential, SignedInMember
from askfirst.consent import (
    Answer,
    AnswerMethod,
    consent_status,
    current_answers,
    current_notice,
    find_purpose,
    grant,
    notice,
    withdraw,
    withdrawals_for_member,
)
from askfirst.web.api.convert import consent_out, json_download, purpose_out, withdrawal_out
from askfirst.web.api.schemas import (
    ERROR_RESPONSES,
    AnswerIn,
    ConsentChangeOut,
    ConsentOut,
    PurposeOut,
    WithdrawalOut,
)
from askfirst.web.auth import current_member, optional_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.receipts import receipt_for

router = APIRouter(tags=["consent"], responses=ERROR_RESPONSES)


@router.get("/purposes", response_model=list[PurposeOut])
def list_purposes(
    member: SignedInMember | None = Depends(optional_member),
    context: AppContext = Depends(app_context),
) -> list[PurposeOut]:
    """Every purpose with its notice; public. Signed in, the notice is your workspace's."""
    if member is None:
        purposes = context.purposes.values()
        return [purpose_out(p, notice(p.in_scope(include_private=False))) for p in purposes]
    with context.store.reading() as session:
        return [
            purpose_out(p, current_notice(session, workspace_id=member.workspace_id, purpose=p))
            for p in context.purposes.values()
        ]


@router.get("/me/consents", response_model=list[ConsentOut])
def my_consents(
    member: SignedInMember = Depends(current_member), context: AppContext = Depends(app_context)
) -> list[ConsentOut]:
    """Your answer for every purpose, whether it counts now, and why."""
    with context.store.reading() as session:
        answers = current_answers(session, member.member_id, context.purposes)
    return [consent_out(status) for status in answers.values()]


@router.post("/me/consents/{purpose}", response_model=ConsentChangeOut)
def answer(
    purpose: str,
    body: AnswerIn,
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> ConsentChangeOut:
    """Say yes (`granted`) or no (`withdrawn`) to a purpose: one call either way."""
    key = find_purpose(context.purposes, purpose).key
    with context.store.transaction() as session:
        return record_answer(session, context, member, key, body)


def record_answer(
    session: Session, context: AppContext, member: SignedInMember, key: str, body: AnswerIn
) -> ConsentChangeOut:
    """Grant or withdraw for the member, then report the answer as it now stands."""
    method = AnswerMethod.API if member.credential is Credential.TOKEN else AnswerMethod.PAGE
    member_id, purposes, clock = member.member_id, context.purposes, context.clock
    opened = None
    if body.answer == "granted":
        change = grant(
            session,
            member_id=member_id,
            purpose_key=key,
            method=method,
            clock=clock,
            purposes=purposes,
            notice_version=body.notice_version,
        )
        changed = change.changed
    else:
        before = consent_status(session, member_id=member_id, purpose_key=key, purposes=purposes)
        opened = withdraw(
            session,
            member_id=member_id,
            purpose_key=key,
            method=method,
            clock=clock,
            purposes=purposes,
        )
        changed = before.answer is None or before.answer is Answer.GRANTED
    after = consent_status(session, member_id=member_id, purpose_key=key, purposes=purposes)
    return ConsentChangeOut(
        consent=consent_out(after),
        changed=changed,
        withdrawal=None if opened is None else withdrawal_out(opened),
    )


@router.get("/me/withdrawals", response_model=list[WithdrawalOut])
def my_withdrawals(
    member: SignedInMember = Depends(current_member), context: AppContext = Depends(app_context)
) -> list[WithdrawalOut]:
    """Your withdrawals, oldest first: status, deadline and every step so far."""
    with context.store.reading() as session:
        return [withdrawal_out(w) for w in withdrawals_for_member(session, member.member_id)]


@router.get("/me/receipts/{purpose}", response_model=dict[str, Any])
def my_receipt(
    purpose: str,
    request: Request,
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> JSONResponse:
    """Your consent receipt for a purpose (Kantara Consent Receipt v1.1), as a download."""
    key = find_purpose(context.purposes, purpose).key
    receipt = receipt_for(context, member, key, str(request.base_url))
    return json_download(receipt, f"askfirst-consent-receipt-{key}.json")
