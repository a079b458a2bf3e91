"""A member's own data over the API: who they are, their journal, timeline, budget, export
and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from askfirst.accounts.erasure import check_confirmation, erase_member
from askfirst.accounts.export import export_json, member_export
from askfirst.accounts.roles import Credential, SignedInMember
from askfirst.journal import entries_about_member
from askfirst.store.tables import AnswerMethod, Member
from askfirst.training.budgets import budget_status
from askfirst.web.api.convert import (
    budget_out,
    journal_entry_out,
    json_download,
    me_out,
    withdrawal_out,
)
from askfirst.web.api.schemas import (
    ERROR_RESPONSES,
    BudgetOut,
    JournalEntryOut,
    MeOut,
    WithdrawalOut,
)
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.pages.privacy_center_view import ReleaseState, TimelineEvent, timeline

router = APIRouter(prefix="/me", tags=["me"], responses=ERROR_RESPONSES)


@router.get("", response_model=MeOut)
def who_am_i(member: SignedInMember = Depends(current_member)) -> MeOut:
    """The signed-in member: id, workspace, login, name and role."""
    return me_out(member)


@router.get("/journal", response_model=list[JournalEntryOut])
def my_journal(
    member: SignedInMember = Depends(current_member), context: AppContext = Depends(app_context)
) -> list[JournalEntryOut]:
    """Every journal entry about you, in the order written."""
    with context.store.reading() as session:
        return [journal_entry_out(e) for e in entries_about_member(session, member.member_id)]


class TimelineEventOut(BaseModel):
    """One line of "what my data was used for": a release with your data, or an entry about you."""

    at: datetime
    text: str = Field(description="what happened, in words, as the privacy center says it")
    journal_seq: int | None = Field(description="the journal entry that records it")
    release_id: int | None = Field(description="set on a release that contains your data")
    release_state: ReleaseState | None = Field(
        description="that release now: served, replaced, retired or not_served"
    )

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventOut:
        return cls(
            at=event.at,
            text=event.text,
            journal_seq=event.journal_seq,
            release_id=event.release_id,
            release_state=event.release_state,
        )


@router.get("/timeline", response_model=list[TimelineEventOut])
def my_timeline(
    member: SignedInMember = Depends(current_member), context: AppContext = Depends(app_context)
) -> list[TimelineEventOut]:
    """What your data was used for, newest first: the releases that contain you (and whether
    each is served now) and the journal entries about you. The privacy center polls this."""
    with context.store.reading() as session:
        me = session.get_one(Member, member.member_id)
        return [TimelineEventOut.of(e) for e in timeline(session, me, context.purposes)]


@router.get("/budget", response_model=list[BudgetOut])
def my_budget(
    member: SignedInMember = Depends(current_member), context: AppContext = Depends(app_context)
) -> list[BudgetOut]:
    """Your privacy budget per purpose, as ε at δ for the whole window (all releases together):
    spent, remaining, limit and planned, the ρ behind them, and each charge with its reason."""
    at = context.clock.now()
    with context.store.reading() as session:
        return [
            budget_out(
                budget_status(
                    session,
                    member_id=member.member_id,
                    purpose_key=key,
                    at=at,
                    purposes=context.purposes,
                )
            )
            for key, purpose in sorted(context.purposes.items())
            if not purpose.personal  # a personal purpose spends no budget
        ]


@router.get("/export", response_model=dict[str, Any])
def my_export(
    member: SignedInMember = Depends(current_member), context: AppContext = Depends(app_context)
) -> JSONResponse:
    """All of your data askfirst holds, as one JSON download."""
    with context.store.reading() as session:
        export = member_export(session, member.member_id, context.clock)
    return json_download(export_json(export), "askfirst-my-data.json")


class ErasureIn(BaseModel):
    """The explicit confirmation an erasure needs."""

    confirm: str = Field(description='the word "erase": erasure cannot be undone', max_length=16)


class ErasureOut(BaseModel):
    """What an erasure deleted (counts only) and the withdrawals it opened."""

    erased_at: datetime
    messages: int = Field(description="messages you wrote, deleted")
    reactions: int = Field(description="reactions you added, deleted")
    reactions_on_their_messages: int = Field(
        description="others' reactions on your deleted messages, deleted with them"
    )
    files: int = Field(description="file records of your deleted messages")
    personal_models: int = Field(description="your personal models, deleted")
    withdrawals: list[WithdrawalOut] = Field(
        description="one per purpose you had said yes to: watch them reach complete"
    )


@router.delete("/data", response_model=ErasureOut)
def erase_my_data(
    body: ErasureIn,
    member: SignedInMember = Depends(current_member),
    context: AppContext = Depends(app_context),
) -> ErasureOut:
    """Erase your data (GDPR Art. 17): the messages, reactions and file records you wrote and
    your personal models are deleted, and every purpose is withdrawn, so served releases with
    your data are replaced within each purpose's deadline. Download `/me/export` first if you
    want a copy; the body must be `{"confirm": "erase"}`."""
    check_confirmation(body.confirm)
    method = AnswerMethod.API if member.credential is Credential.TOKEN else AnswerMethod.PAGE
    with context.store.transaction() as session:
        erasure = erase_member(
            session,
            member_id=member.member_id,
            method=method,
            clock=context.clock,
            purposes=context.purposes,
        )
    return ErasureOut(
        erased_at=erasure.at,
        **erasure.counts(),
        withdrawals=[withdrawal_out(w) for w in erasure.withdrawals],
    )
