"""The privacy center: a member's own purposes, answers, budget, timeline and withdrawals.

One switch per purpose grants or withdraws in a single click, the same effort both ways; it
records the answer through the same service call as the JSON API (method `page`). The erase
page offers the export first, then erases everything the member wrote once they confirm.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from askfirst.accounts.erasure import check_confirmation, erasable, erase_member
from askfirst.accounts.roles import SignedInMember
from askfirst.consent import find_purpose
from askfirst.journal import entries_about_member
from askfirst.store.tables import AnswerMethod, Member
from askfirst.web.api.consent import record_answer
from askfirst.web.api.schemas import AnswerIn
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.pages.privacy_center_view import my_withdrawals, purpose_cards, timeline
from askfirst.web.pages.words import STATUS_WORDS
from askfirst.web.rendering import render

router = APIRouter(include_in_schema=False)
PRIVACY_CENTER_PATH = "/privacy-center"
ERASE_PATH = f"{PRIVACY_CENTER_PATH}/erase"


@router.get(PRIVACY_CENTER_PATH)
def privacy_center(
    request: Request,
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Everything about the member's own data, and the switches to change it."""
    at = context.clock.now()
    with context.store.reading() as session:
        me = session.get_one(Member, member.member_id)
        values = {
            "cards": purpose_cards(session, me, context.purposes, at),
            "timeline": timeline(session, me, context.purposes),
            "withdrawals": my_withdrawals(session, me.id),
            "titles": {key: purpose.title for key, purpose in context.purposes.items()},
            "status_words": STATUS_WORDS,
        }
        return render(request, "privacy_center.html", values, member=member)


@router.post(f"{PRIVACY_CENTER_PATH}/consents/{{purpose}}")
def switch(
    purpose: str,
    answer: Literal["granted", "withdrawn"] = Form(),
    notice_version: str | None = Form(default=None, max_length=64),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Say yes or no to one purpose; back to the privacy center at that purpose."""
    key = find_purpose(context.purposes, purpose).key
    body = AnswerIn(answer=answer, notice_version=notice_version or None)
    with context.store.transaction() as session:
        record_answer(session, context, member, key, body)
    return RedirectResponse(f"{PRIVACY_CENTER_PATH}#{key}", status_code=303)


@router.get(ERASE_PATH)
def erase_page(
    request: Request,
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """What erasure deletes and keeps, the export to take first, and the confirmation."""
    with context.store.reading() as session:
        erased = [
            entry
            for entry in entries_about_member(session, member.member_id)
            if entry.kind == "member.erased"
        ]
        values = {
            "erasable": erasable(session, member.member_id),
            "last_erasure": erased[-1] if erased else None,
        }
        return render(request, "erase.html", values, member=member)


@router.post(ERASE_PATH)
def erase(
    confirm: str | None = Form(default=None, max_length=16),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Erase the member's data once they confirmed; back to the erase page, which says what
    was deleted."""
    check_confirmation(confirm)
    with context.store.transaction() as session:
        erase_member(
            session,
            member_id=member.member_id,
            method=AnswerMethod.PAGE,
            clock=context.clock,
            purposes=context.purposes,
        )
    return RedirectResponse(f"{ERASE_PATH}#erased", status_code=303)
