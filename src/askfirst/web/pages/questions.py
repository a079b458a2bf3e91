"""The questions a member is asked once, on the first page after signing in: for every
purpose they never answered, yes, no, or not now, one click each and nothing pre-selected.

Each click records an answer through the same service call as the privacy center (method
`page`), journaled with a receipt. "Not now" records a no: it grants nothing and stays off,
and the question is not asked again; the member can say yes later on the privacy center.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from askfirst.accounts.roles import SignedInMember
from askfirst.consent import Purpose, find_purpose, policy_for_workspace
from askfirst.consent.history import latest_answers
from askfirst.consent.notices import Notice, current_notice, notice_text
from askfirst.store.tables import Member
from askfirst.web.api.consent import record_answer
from askfirst.web.api.schemas import AnswerIn
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.rendering import render
from askfirst.web.urls import safe_next

router = APIRouter(include_in_schema=False)
QUESTIONS_PATH = "/questions"
# What each button records: "not now" is a no, so it can never grant anything.
RECORDED: dict[str, Literal["granted", "withdrawn"]] = {
    "yes": "granted",
    "no": "withdrawn",
    "not_now": "withdrawn",
}


def unanswered(
    session: Session, member_id: int, purposes: Mapping[str, Purpose], at: datetime
) -> list[tuple[Purpose, Notice]]:
    """The purposes the member never answered and their workspace allows, with the notice
    shown for each (a forbidden purpose is not asked: a yes could not take effect)."""
    member = session.get_one(Member, member_id)
    answered = {row.purpose_key for row in latest_answers(session, member_id=member_id)}
    asked = []
    for key in sorted(set(purposes) - answered):
        policy = policy_for_workspace(session, workspace_id=member.workspace_id, purpose_key=key)
        if policy.allowed:
            purpose = purposes[key]
            shown = current_notice(
                session, workspace_id=member.workspace_id, purpose=purpose, at=at
            )
            asked.append((purpose, shown))
    return asked


def questions_url(next_path: str) -> str:
    """The questions page, going on to `next_path` once they are answered."""
    return f"{QUESTIONS_PATH}?{urlencode({'next': safe_next(next_path)})}"


@router.get(QUESTIONS_PATH)
def questions(
    request: Request,
    next_path: str = Query(default="/", alias="next", max_length=2000),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """The member's open questions; with none left, straight on to where they were going."""
    going = safe_next(next_path)
    with context.store.reading() as session:
        asked = unanswered(session, member.member_id, context.purposes, context.clock.now())
    if not asked:
        return RedirectResponse(going, status_code=303)
    cards = [
        {
            "purpose": purpose,
            "version": shown.version,
            "lines": notice_text(purpose).split("\n")[2:],
        }
        for purpose, shown in asked
    ]
    return render(request, "questions.html", {"cards": cards, "next": going}, member=member)


@router.post(f"{QUESTIONS_PATH}/{{purpose}}")
def answer_question(
    purpose: str,
    answer: Literal["yes", "no", "not_now"] = Form(),
    notice_version: str | None = Form(default=None, max_length=64),
    next_path: str = Form(default="/", alias="next", max_length=2000),
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> Response:
    """Record one answer, then back to the questions that are left."""
    key = find_purpose(context.purposes, purpose).key
    body = AnswerIn(answer=RECORDED[answer], notice_version=notice_version or None)
    with context.store.transaction() as session:
        record_answer(session, context, member, key, body)
    return RedirectResponse(questions_url(next_path), status_code=303)
