"""The privacy center: a member's own purposes, answers, budget, timeline and withdrawals.

One switch per purpose grants or withdraws in a single click, the same effort both ways; it
records the answer through the same service call as the JSON API (method `page`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import find_purpose
from askfirst.store.tables import Member
from askfirst.web.api.consent import record_answer
from askfirst.web.api.schemas import AnswerIn
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.pages.privacy_center_view import my_withdrawals, purpose_cards, timeline
from askfirst.web.pages.words import STATUS_WORDS
from askfirst.web.rendering import render

router = APIRouter(include_in_schema=False)
PRIVACY_CENTER_PATH = "/privacy-center"


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
