"""A member's own data over the API: who they are, their journal, timeline, budget and
export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter

from askfirst.accounts.export import member_export
from askfirst.accounts.roles import SignedInMember
from askfirst.journal import entries_about_member
from askfirst.store.tables import Member
from askfirst.training.budgets import budget_status
from askfirst.web.api.convert import budget_out, journal_entry_out, json_download, me_out
from askfirst.web.api.schemas import ERROR_RESPONSES, BudgetOut, JournalEntryOut, MeOut
from askfirst.web.auth import current_member
from askfirst.web.context import AppContext, app_context
from askfirst.web.pages.privacy_center_view import ReleaseState, TimelineEvent, timeline

router = APIRouter(prefix="/me", tags=["me"], responses=ERROR_RESPONSES)
# Encodes datetimes as the rest of the API does (ISO 8601, "Z" for UTC).
EXPORT_ENCODING = TypeAdapter(dict[str, Any])


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
    return json_download(EXPORT_ENCODING.dump_python(export, mode="json"), "askfirst-my-data.json")
